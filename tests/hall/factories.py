"""Factories of the hall tests: a hall with windows and a clerk at each, quotas, moments."""

from __future__ import annotations

from dataclasses import dataclass

from tests.accounts.factories import UserFactory
from tests.cases.factories import FrozenTime, at, person  # noqa: F401  (for the tests)
from tests.conftest import grant
from tests.org.factories import HallFactory, WindowCategoryFactory, WindowFactory
from yimen.hall.choices import Period
from yimen.hall.models import AppointmentQuota
from yimen.org.choices import Role


@dataclass
class Floor:
    """A hall with two queues (A: 个人, B: 企业) and one window for each, a clerk at each."""

    hall: object
    people: object
    firms: object
    window_a: object
    window_b: object
    clerk_a: object
    clerk_b: object

    @classmethod
    def make(cls, *, capacity: int = 2) -> Floor:
        hall = HallFactory()
        people = WindowCategoryFactory(code="people", name="个人办事", queue_prefix="A")
        firms = WindowCategoryFactory(code="firms", name="企业办事", queue_prefix="B")
        window_a = WindowFactory(hall=hall, number="01", categories=[people])
        window_b = WindowFactory(hall=hall, number="02", categories=[firms])
        clerk_a = grant(UserFactory(), Role.WINDOW_CLERK, hall=hall, window=window_a)
        clerk_b = grant(UserFactory(), Role.WINDOW_CLERK, hall=hall, window=window_b)
        for category in (people, firms):
            for period in Period.values:
                AppointmentQuota.objects.create(
                    hall=hall, category=category, period=period, capacity=capacity
                )
        return cls(hall, people, firms, window_a, window_b, clerk_a, clerk_b)
