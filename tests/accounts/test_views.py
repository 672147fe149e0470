import pytest
from django.urls import reverse

from yimen.accounts.choices import IdentityLevel
from yimen.accounts.models import Applicant
from yimen.common.models import AuditEvent

from .factories import PASSWORD, PersonFactory, UserFactory, citizen_id

pytestmark = pytest.mark.django_db

LOOKUP = reverse("accounts:applicant_lookup")


def test_the_home_page_is_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.text


def test_the_language_switch_serves_english(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/").text


def test_sign_in_and_out_are_audited(client):
    user = UserFactory(username="zhang")
    response = client.post(reverse("accounts:login"), {"username": "zhang", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:home")
    client.post(reverse("accounts:logout"))
    actions = list(
        AuditEvent.objects.filter(object_id=str(user.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["user.login", "user.logout"]


def test_repeated_failed_sign_ins_lock_the_account(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="zhang")
    for _ in range(3):
        client.post(reverse("accounts:login"), {"username": "zhang", "password": "wrong"})
    # now even the right password is refused
    response = client.post(reverse("accounts:login"), {"username": "zhang", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="user.login_failed").count() >= 3


def test_a_citizen_registers_online_and_lands_in_my_space(client):
    number = citizen_id(11)
    response = client.post(
        reverse("accounts:register"),
        {
            "name": "张三",
            "id_number": number,
            "phone": "13800001111",
            "username": "zhangsan",
            "password1": "Long-enough-pass-1",
            "password2": "Long-enough-pass-1",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert Applicant.objects.get(id_number=number).user.username == "zhangsan"
    # my space shows the masked number, never the full one
    assert number not in response.text
    assert f"{number[:4]}**********{number[-4:]}" in response.text


def test_registration_with_a_bad_id_number_shows_the_reason(client):
    response = client.post(
        reverse("accounts:register"),
        {
            "name": "张三",
            "id_number": "440604199001010010",
            "phone": "13800001111",
            "username": "zhangsan",
            "password1": "Long-enough-pass-1",
            "password2": "Long-enough-pass-1",
        },
    )
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.text
    assert not Applicant.objects.exists()


@pytest.mark.parametrize("who", ["anonymous", "applicant", "reviewer"])
def test_only_window_staff_look_up_applicants(client, who, request):
    if who == "applicant":
        client.force_login(PersonFactory(user=UserFactory()).user)
    elif who == "reviewer":
        client.force_login(request.getfixturevalue("reviewer"))
    response = client.post(LOOKUP, {"q": citizen_id(1)})
    assert response.status_code == (302 if who == "anonymous" else 403)


def test_a_clerk_finds_an_applicant_by_the_full_number_only(client, clerk):
    applicant = PersonFactory()
    client.force_login(clerk)

    found = client.post(LOOKUP, {"q": applicant.id_number.lower()}, follow=True)
    partial = client.post(LOOKUP, {"q": applicant.id_number[:10]})

    # the number travels in the request body only, and the page shows it masked
    assert found.redirect_chain == [
        (reverse("accounts:applicant_detail", args=[applicant.public_id]), 302)
    ]
    assert applicant.name in found.text
    assert applicant.id_number not in found.text
    assert applicant.masked_identifier in found.text
    assert applicant.name not in partial.text
    assert "请输入完整的18位身份证号码" in partial.text  # the clerk reads Chinese


def test_the_lookup_answers_htmx_with_the_result_fragment_only(client, clerk):
    applicant = PersonFactory()
    client.force_login(clerk)
    response = client.post(LOOKUP, {"q": applicant.id_number}, headers={"HX-Request": "true"})
    assert applicant.name in response.text
    assert "<html" not in response.text


def test_an_unknown_number_offers_to_register_the_walk_in(client, clerk):
    client.force_login(clerk)
    number = citizen_id(21)
    response = client.post(LOOKUP, {"q": number})
    assert reverse("accounts:applicant_walk_in") in response.text

    created = client.post(
        reverse("accounts:applicant_walk_in"),
        {"kind": "person", "name": "李四", "identifier": number, "phone": "13800002222"},
    )
    assert created.status_code == 302
    applicant = Applicant.objects.get(id_number=number)
    assert AuditEvent.objects.get(action="applicant.register").actor_id == clerk.pk

    again = client.post(
        reverse("accounts:applicant_walk_in"),
        {"kind": "person", "name": "李四", "identifier": number},
    )
    assert again.status_code == 400
    assert Applicant.objects.filter(pk=applicant.pk).count() == Applicant.objects.count() == 1


def test_a_walk_in_enterprise_needs_a_representative(client, clerk):
    from .factories import uscc

    client.force_login(clerk)
    response = client.post(
        reverse("accounts:applicant_walk_in"),
        {"kind": "enterprise", "name": "示例公司", "identifier": uscc(3)},
    )
    assert response.status_code == 400
    assert not Applicant.objects.exists()


def test_a_clerk_verifies_an_applicant_in_person(client, clerk):
    applicant = PersonFactory()
    client.force_login(clerk)
    client.post(reverse("accounts:applicant_verify", args=[applicant.public_id]))
    applicant.refresh_from_db()
    assert applicant.identity_level == IdentityLevel.IN_PERSON


def test_a_password_change_is_audited(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Another-pass-77",
            "new_password2": "Another-pass-77",
        },
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="user.password_change", actor=user).exists()


def test_staff_and_applicants_get_their_own_home(client, reviewer):
    client.force_login(reviewer)
    assert "accounts/home_staff.html" in [
        t.name for t in client.get(reverse("accounts:home")).templates
    ]
    citizen = PersonFactory(user=UserFactory()).user
    client.force_login(citizen)
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302 and response["Location"] == reverse("space:home")


def test_missing_pages_use_the_friendly_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "404" in response.text and "<nav" in response.text
