import pytest
from django.core.exceptions import ValidationError

from yimen.accounts import services
from yimen.accounts.choices import ApplicantKind, IdentityLevel
from yimen.accounts.models import Applicant, User
from yimen.common.models import AuditEvent

from .factories import PersonFactory, UserFactory, citizen_id, uscc

pytestmark = pytest.mark.django_db


def test_register_person_normalises_the_number_and_audits():
    number = citizen_id(1)
    # given a number typed with spaces and, where it has one, a lower-case x
    typed = f" {number[:6]} {number[6:].lower()} "

    applicant = services.applicant_register(kind=ApplicantKind.PERSON, name="张三", id_number=typed)

    assert applicant.id_number == number
    assert applicant.identity_level == IdentityLevel.REGISTERED
    event = AuditEvent.objects.get(action="applicant.register")
    assert (event.object_type, event.object_id, event.to_state) == (
        "accounts.applicant",
        str(applicant.pk),
        "L1",
    )


def test_an_x_check_character_typed_in_lower_case_is_accepted():
    # 11010519491231002X is the standard's own example number
    applicant = services.applicant_register(
        kind=ApplicantKind.PERSON, name="示例", id_number="11010519491231002x"
    )
    assert applicant.id_number == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("44060419900101001", "18"),
        ("440604199002300019", "birth date"),
        ("990604199001010019", "region"),
    ],
)
def test_a_bad_id_number_is_a_field_error_and_writes_nothing(number, fragment):
    with pytest.raises(ValidationError) as info:
        services.applicant_register(kind=ApplicantKind.PERSON, name="张三", id_number=number)

    assert fragment in " ".join(info.value.message_dict["id_number"])
    assert not Applicant.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_wrong_check_character_is_refused():
    number = citizen_id(2)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(ValidationError) as info:
        services.applicant_register(kind=ApplicantKind.PERSON, name="张三", id_number=wrong)
    assert "check character" in " ".join(info.value.message_dict["id_number"])


def test_a_registered_number_cannot_be_registered_twice():
    existing = PersonFactory()
    with pytest.raises(ValidationError) as info:
        services.applicant_register(
            kind=ApplicantKind.PERSON, name="另一人", id_number=existing.id_number
        )
    assert "id_number" in info.value.message_dict
    assert Applicant.objects.count() == 1


def test_an_enterprise_needs_a_valid_credit_code():
    with pytest.raises(ValidationError) as info:
        services.applicant_register(kind=ApplicantKind.ENTERPRISE, name="示例公司", uscc="")
    assert "uscc" in info.value.message_dict

    company = services.applicant_register(
        kind=ApplicantKind.ENTERPRISE, name="示例公司", uscc=uscc(7), legal_representative="张三"
    )
    assert company.uscc == uscc(7) and company.id_number is None
    # a USCC is public: it is shown in full; an ID number is not
    assert company.masked_identifier == uscc(7)


def test_online_registration_creates_a_login_and_an_l1_profile():
    user = services.person_account_register(
        username="zhangsan",
        password="Long-enough-pass-1",
        name="张三",
        id_number=citizen_id(3),
        phone="13800001111",
    )
    assert user.check_password("Long-enough-pass-1")
    assert user.applicant.identity_level == IdentityLevel.REGISTERED


def test_online_registration_with_a_weak_password_writes_nothing():
    with pytest.raises(ValidationError):
        services.person_account_register(
            username="zhangsan", password="123", name="张三", id_number=citizen_id(4), phone=""
        )
    assert not User.objects.exists()
    assert not Applicant.objects.exists()


def test_online_registration_with_a_taken_number_writes_no_login():
    taken = PersonFactory()
    with pytest.raises(ValidationError):
        services.person_account_register(
            username="other",
            password="Long-enough-pass-1",
            name="张三",
            id_number=taken.id_number,
            phone="",
        )
    assert not User.objects.filter(username="other").exists()


def test_verification_in_person_raises_the_level_once():
    clerk = UserFactory()
    applicant = PersonFactory()

    verified = services.applicant_verify_in_person(applicant=applicant, clerk=clerk)

    assert verified.identity_level == IdentityLevel.IN_PERSON
    assert verified.verified_by == clerk
    event = AuditEvent.objects.get(action="applicant.verify_in_person")
    assert (event.from_state, event.to_state, event.actor_id) == ("L1", "L3", clerk.pk)
    with pytest.raises(ValidationError):
        services.applicant_verify_in_person(applicant=verified, clerk=clerk)
