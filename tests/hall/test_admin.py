"""The hall admin: system admins keep the appointment quotas (every change audited) and
look at appointments and tickets (read-only, ID numbers masked); other roles get nothing."""

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.accounts.factories import UserFactory
from tests.conftest import grant
from tests.org.factories import WindowCategoryFactory, WindowFactory
from yimen.common.models import AuditEvent
from yimen.hall import services
from yimen.hall.choices import AppointmentStatus, TicketStatus
from yimen.hall.models import Appointment, AppointmentQuota, Ticket
from yimen.org.choices import Role

from .factories import Floor, person

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 23)
QUOTAS = reverse("admin:hall_appointmentquota_changelist")
APPOINTMENTS = reverse("admin:hall_appointment_changelist")
TICKETS = reverse("admin:hall_ticket_changelist")


@pytest.fixture
def admin_client(client, sysadmin):
    client.force_login(sysadmin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def book(floor, applicant, *, period="am", category=None):
    return services.appointment_book(
        applicant=applicant,
        booked_by=applicant.user,
        hall=floor.hall,
        category=category or floor.people,
        day=MONDAY,
        period=period,
    )


def admin_events(action):
    return list(AuditEvent.objects.filter(action=action, object_type="hall.appointmentquota"))


# --- quotas ---------------------------------------------------------------------------------


def test_a_system_admin_adds_a_quota_and_it_is_audited(admin_client, floor, sysadmin):
    # Given a third queue in the hall without a quota
    other = WindowCategoryFactory(name="其他", queue_prefix="D")
    WindowFactory(hall=floor.hall, number="09", categories=[other])
    # When the admin adds 20 places for its mornings
    response = admin_client.post(
        reverse("admin:hall_appointmentquota_add"),
        {"hall": floor.hall.pk, "category": other.pk, "period": "am", "capacity": 20},
    )
    # Then the quota exists and the chain says who added it
    assert response.status_code == 302, response.context["adminform"].form.errors
    quota = AppointmentQuota.objects.get(category=other)
    assert (quota.hall, quota.period, quota.capacity) == (floor.hall, "am", 20)
    [event] = admin_events("admin.add")
    assert event.object_id == str(quota.pk) and event.actor == sysadmin
    assert event.payload["fields"] == ["capacity", "category", "hall", "period"]


def test_changing_a_capacity_is_audited(admin_client, floor):
    quota = AppointmentQuota.objects.get(hall=floor.hall, category=floor.people, period="am")
    response = admin_client.post(
        reverse("admin:hall_appointmentquota_change", args=[quota.pk]), {"capacity": 30}
    )
    assert response.status_code == 302
    quota.refresh_from_db()
    assert quota.capacity == 30
    [event] = admin_events("admin.change")
    assert event.payload["fields"] == ["capacity"]


def test_the_hall_category_and_period_of_a_quota_stay(admin_client, floor):
    # Given the morning quota of the A queue
    quota = AppointmentQuota.objects.get(hall=floor.hall, category=floor.people, period="am")
    # When a post tries to move it to the afternoon of the B queue
    admin_client.post(
        reverse("admin:hall_appointmentquota_change", args=[quota.pk]),
        {"category": floor.firms.pk, "period": "pm", "capacity": 3},
    )
    # Then only the capacity changes
    quota.refresh_from_db()
    assert (quota.category, quota.period, quota.capacity) == (floor.people, "am", 3)


def test_the_capacity_is_edited_in_the_list_and_audited(admin_client, floor):
    quotas = list(AppointmentQuota.objects.order_by("pk"))
    data = {
        "form-TOTAL_FORMS": len(quotas),
        "form-INITIAL_FORMS": len(quotas),
        "_save": "Save",
    }
    for n, quota in enumerate(quotas):
        data[f"form-{n}-id"] = quota.pk
        data[f"form-{n}-capacity"] = 5 if n == 0 else quota.capacity
    assert admin_client.post(QUOTAS, data).status_code == 302
    assert AppointmentQuota.objects.get(pk=quotas[0].pk).capacity == 5
    [event] = admin_events("admin.change")
    assert event.object_id == str(quotas[0].pk)


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"capacity": 0}, {"capacity": ["Ensure this value is greater than or equal to 1."]}),
        (
            {"category": "people", "capacity": 5},
            {
                "__all__": [
                    "Appointment quota with this Hall, Window category and Period already exists."
                ]
            },
        ),
    ],
)
def test_bad_quotas_are_refused(admin_client, floor, values, errors):
    # Given a queue without a quota, served at a window of the hall, and the A queue's
    # existing ones
    other = WindowCategoryFactory(queue_prefix="D")
    WindowFactory(hall=floor.hall, number="09", categories=[other])
    values["category"] = floor.people.pk if values.get("category") == "people" else other.pk
    data = {"hall": floor.hall.pk, "period": "pm", **values}
    # When a bad quota is posted / then the form says why and nothing is written
    response = admin_client.post(reverse("admin:hall_appointmentquota_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == errors
    assert AppointmentQuota.objects.count() == 4
    assert not admin_events("admin.add")


@pytest.mark.parametrize("served", ["nowhere", "closed-window", "other-hall"])
def test_a_quota_for_a_category_no_active_window_of_the_hall_serves_is_refused(
    admin_client, floor, served
):
    # Given a category served at no window, at a closed window, or in another hall only
    category = WindowCategoryFactory(queue_prefix="D")
    if served == "closed-window":
        WindowFactory(hall=floor.hall, number="09", categories=[category], is_active=False)
    elif served == "other-hall":
        WindowFactory(hall=Floor.make().hall, number="09", categories=[category])
    # When a quota is added for it
    response = admin_client.post(
        reverse("admin:hall_appointmentquota_add"),
        {"hall": floor.hall.pk, "category": category.pk, "period": "am", "capacity": 5},
    )
    # Then the form says why and nothing is written
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "category": ["No window of this hall serves this category."]
    }
    assert not AppointmentQuota.objects.filter(category=category).exists()
    assert not admin_events("admin.add")


def test_deleting_a_quota_is_audited(admin_client, floor):
    quota = AppointmentQuota.objects.get(hall=floor.hall, category=floor.firms, period="pm")
    response = admin_client.post(
        reverse("admin:hall_appointmentquota_delete", args=[quota.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not AppointmentQuota.objects.filter(pk=quota.pk).exists()
    [event] = admin_events("admin.delete")
    assert event.object_id == str(quota.pk)


def test_the_quota_list_filters_by_hall(admin_client, floor):
    other = Floor.make()
    other.hall.name = "另一个大厅"
    other.hall.save()
    response = admin_client.get(QUOTAS, {"hall__id__exact": other.hall.pk})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == list(
        AppointmentQuota.objects.filter(hall=other.hall)
    )


# --- appointments and tickets, read-only ----------------------------------------------------


@pytest.fixture
def visits(floor, clock):
    """Monday: 张三's appointment checked in and served; 李四's booking; a walk-in waiting;
    a B ticket that did not come."""
    zhang = person(n=1)
    ticket = services.appointment_check_in(appointment=book(floor, zhang), hall=floor.hall)
    booked = book(floor, person(n=2), period="pm")
    services.ticket_take(hall=floor.hall, category=floor.people)
    services.ticket_take(hall=floor.hall, category=floor.firms)
    clock.to(2026, 11, 23, 9, 12)
    services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)
    services.ticket_start(ticket=ticket, clerk=floor.clerk_a)
    clock.to(2026, 11, 23, 9, 30)
    services.ticket_finish(ticket=ticket, clerk=floor.clerk_a)
    services.ticket_rate(ticket=ticket, rating=5)
    absent = services.ticket_call_next(window=floor.window_b, clerk=floor.clerk_b)
    services.ticket_no_show(ticket=absent, clerk=floor.clerk_b)
    return {"zhang": zhang, "served": ticket, "booked": booked}


def test_the_appointment_list_shows_codes_and_masked_applicants(admin_client, visits):
    response = admin_client.get(APPOINTMENTS)
    assert response.status_code == 200
    content = response.content.decode()
    for appointment in Appointment.objects.all():
        assert appointment.code in content
    identifier = visits["zhang"].id_number
    assert identifier not in content
    assert f"{identifier[:4]}{'*' * 10}{identifier[-4:]}" in content
    assert "Checked in" in content and "Booked" in content


def test_appointments_are_found_by_code_and_filtered(admin_client, visits):
    booked = visits["booked"]
    found = admin_client.get(APPOINTMENTS, {"q": booked.code}).context["cl"].result_list
    assert list(found) == [booked]
    by_status = admin_client.get(APPOINTMENTS, {"status__exact": AppointmentStatus.CHECKED_IN})
    assert [a.status for a in by_status.context["cl"].result_list] == ["checked_in"]
    by_period = admin_client.get(APPOINTMENTS, {"period__exact": "pm"})
    assert list(by_period.context["cl"].result_list) == [booked]
    by_day = admin_client.get(APPOINTMENTS, {"day__gte": "2026-11-24"})
    assert list(by_day.context["cl"].result_list) == []


def test_the_ticket_list_shows_times_and_filters(admin_client, visits, floor):
    response = admin_client.get(TICKETS)
    assert response.status_code == 200
    rows = {t.number: t for t in response.context["cl"].result_list}
    assert set(rows) == {"A001", "A002", "B001"}
    content = response.content.decode()
    assert "Served" in content and "Did not come" in content and "Waiting" in content
    by_status = admin_client.get(TICKETS, {"status__exact": TicketStatus.NO_SHOW})
    assert [t.number for t in by_status.context["cl"].result_list] == ["B001"]
    by_category = admin_client.get(TICKETS, {"category__id__exact": floor.firms.pk})
    assert [t.number for t in by_category.context["cl"].result_list] == ["B001"]
    other = Floor.make()
    elsewhere = services.ticket_take(hall=other.hall, category=other.people)
    by_hall = admin_client.get(TICKETS, {"hall__id__exact": other.hall.pk})
    assert list(by_hall.context["cl"].result_list) == [elsewhere]
    by_day = admin_client.get(TICKETS, {"day__day": "23", "day__month": "11", "day__year": "2026"})
    assert len(by_day.context["cl"].result_list) == 4


def test_tickets_and_appointments_are_listed_newest_first(admin_client, visits, clock, sysadmin):
    # Given a later day's ticket and booking besides Monday's
    clock.to(2026, 11, 24, 9, 40)
    floor_ = Floor.make()
    tuesday = services.ticket_take(hall=floor_.hall, category=floor_.people)
    later = services.ticket_take(hall=floor_.hall, category=floor_.people)
    applicant = person(n=5)
    booked = services.appointment_book(
        applicant=applicant,
        booked_by=applicant.user,
        hall=floor_.hall,
        category=floor_.people,
        day=dt.date(2026, 11, 25),
        period="am",
    )
    # Then each list begins with the newest (the admin signs in again: a day has passed)
    admin_client.force_login(sysadmin)
    tickets = list(admin_client.get(TICKETS).context["cl"].result_list)
    assert tickets[:2] == [later, tuesday]
    assert [t.day for t in tickets] == sorted((t.day for t in tickets), reverse=True)
    appointments = list(admin_client.get(APPOINTMENTS).context["cl"].result_list)
    assert appointments[0] == booked
    assert appointments[1:] == sorted(
        appointments[1:], key=lambda a: (a.day, a.period, a.created_at), reverse=True
    )


def test_tickets_are_found_by_number_or_appointment_code(admin_client, visits):
    served = visits["served"]
    by_number = admin_client.get(TICKETS, {"q": "a001"}).context["cl"].result_list
    assert list(by_number) == [served]
    by_code = admin_client.get(TICKETS, {"q": served.appointment.code}).context["cl"].result_list
    assert list(by_code) == [served]


def test_a_ticket_page_shows_its_times_read_only(admin_client, visits):
    served = visits["served"]
    response = admin_client.get(reverse("admin:hall_ticket_change", args=[served.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert served.number in content and "Very satisfied" in content
    assert visits["zhang"].id_number not in content
    assert not response.context["adminform"].form.fields
    assert 'name="_save"' not in content


def test_an_appointment_page_names_its_ticket(admin_client, visits):
    appointment = visits["served"].appointment
    response = admin_client.get(reverse("admin:hall_appointment_change", args=[appointment.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert appointment.code in content and "A001" in content
    assert visits["zhang"].id_number not in content


def test_no_appointment_or_ticket_is_added_changed_or_deleted(admin_client, visits):
    served, booked = visits["served"], visits["booked"]
    for name, obj, data in (
        ("ticket", served, {"status": TicketStatus.WAITING}),
        ("appointment", booked, {"status": AppointmentStatus.CANCELLED}),
    ):
        assert admin_client.get(reverse(f"admin:hall_{name}_add")).status_code == 403
        change = reverse(f"admin:hall_{name}_change", args=[obj.pk])
        assert admin_client.post(change, data).status_code == 403
        delete = reverse(f"admin:hall_{name}_delete", args=[obj.pk])
        assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Ticket.objects.get(pk=served.pk).status == TicketStatus.DONE
    assert Appointment.objects.get(pk=booked.pk).status == AppointmentStatus.BOOKED
    # and the list offers no bulk delete
    response = admin_client.get(TICKETS)
    assert "delete_selected" not in response.content.decode()


@pytest.mark.parametrize("url", [APPOINTMENTS, TICKETS, QUOTAS])
def test_the_lists_take_as_many_queries_with_more_rows(
    admin_client, visits, floor, url, django_assert_max_num_queries
):
    admin_client.get(url)  # the session and the calendar are read once
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    # When more visits of other applicants, queues and windows are added
    for n in (3, 4):
        appointment = book(floor, person(n=n), category=floor.firms)
        services.appointment_check_in(appointment=appointment, hall=floor.hall)
    for _ in range(3):
        services.ticket_take(hall=floor.hall, category=floor.people)
    services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)
    services.ticket_call_next(window=floor.window_b, clerk=floor.clerk_b)
    AppointmentQuota.objects.create(
        hall=floor.hall, category=WindowCategoryFactory(queue_prefix="D"), period="am", capacity=1
    )
    # Then the list takes no more queries
    with django_assert_max_num_queries(len(few)):
        assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize("role", [Role.CATALOGUE_ADMIN, Role.SUPERVISOR, Role.WINDOW_CLERK])
def test_other_roles_do_not_reach_the_hall_admin(client, floor, role):
    scope = {"hall": floor.hall} if role == Role.WINDOW_CLERK else {}
    client.force_login(grant(UserFactory(), role, **scope))
    for url in (QUOTAS, APPOINTMENTS, TICKETS):
        # refused, or sent to the admin's sign-in for roles without the admin site
        assert client.get(url).status_code == (403 if role == Role.CATALOGUE_ADMIN else 302)
    quota = AppointmentQuota.objects.first()
    response = client.post(
        reverse("admin:hall_appointmentquota_change", args=[quota.pk]), {"capacity": 99}
    )
    assert response.status_code in (302, 403)
    quota.refresh_from_db()
    assert quota.capacity == 2
