"""The demo hall: appointment quotas, a month of queue history, today's queue and a few
upcoming appointments, so that the board, the window panel, the kiosk, "my appointments"
and the statistics all have something to show.

- Quotas: 20 appointments per half-day for every window category a demo hall serves.
- History: every working day of the last 30 days, a hundred or so tickets across the three
  halls, taken in the morning and afternoon rushes. Waits are mostly 5–25 minutes and
  average about 12 (the seeds' figure), services take 5–20 minutes; some tickets are
  appointments, a few did not come, a few were transferred to another queue, about half
  the services were rated (mostly 5 and 4, a few low ones with their reason). The history
  is demo data written in bulk, without audit rows: walking two thousand visits through
  the services would make `make run` slow for nothing the audit chain needs to show.
  Bookings made online are stamped at any hour; those made at a window, on an earlier
  working day while the hall was open.
- Today (only on a working day, and only when the demo is loaded after 09:30: before, the
  hall has barely opened): the queue of the hours before the load, walked through the
  services with the clock held at each step's moment (like the demo cases), so each
  ticket's audit trail is real: some served and rated, one that did not come, one
  transferred, several waiting, one appointment checked in (within its check-in time),
  and the demo clerk `clerk` serving someone at window A01.
- Upcoming: appointments of demo applicants on the next working days, 张三's (`citizen`)
  among them, booked through the services.

Everything is drawn from a generator seeded with the day, so a load shows the same picture
all day. The step runs once: when the demo halls have tickets, only missing quotas are added.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from unittest import mock

from django.utils import timezone

from yimen.accounts.models import Applicant, User
from yimen.catalog.models import ServiceItem
from yimen.common import audit, workdays
from yimen.common.choices import Channel
from yimen.hall import periods, selectors, services
from yimen.hall.choices import AppointmentStatus, Period, TicketStatus
from yimen.hall.models import Appointment, AppointmentQuota, Ticket, TicketCounter
from yimen.org.choices import Role
from yimen.org.models import Hall, Window, WindowCategory

from . import cases as demo_cases
from . import city

QUOTA = 20  # appointments per window category and half-day
HISTORY_DAYS = 30

# The tickets each queue of each hall draws on an ordinary day.
DAILY_TICKETS = {
    "city": {"personal": 34, "enterprise": 16, "construction": 6, "other": 5},
    "chancheng": {"personal": 16, "enterprise": 8, "construction": 3, "other": 3},
    "zumiao": {"personal": 7, "other": 3},
}
# Mondays are busiest; a make-up Saturday is quiet.
WEEKDAY_LOAD = {0: 1.25, 1: 1.05, 2: 1.0, 3: 0.95, 4: 0.9, 5: 0.6, 6: 0.6}
# How the day's tickets spread over the opening hours (9:00–12:00, 14:00–17:30).
HOUR_WEIGHTS = {9: 14, 10: 18, 11: 10, 14: 12, 15: 16, 16: 13, 17: 4}
HOUR_MINUTES = {11: 50, 17: 15}  # the last ticket of the morning / of the day

WAIT_MEDIAN = 10.5  # minutes; with the spread below the mean is about 12
WAIT_SPREAD = 0.5  # sigma of the log-normal wait
APPOINTMENT_SHARE = 0.12
NO_SHOW_SHARE = 0.04
TRANSFER_SHARE = 0.03
RATED_SHARE = 0.55
RATINGS = {5: 80, 4: 14, 3: 3, 2: 2, 1: 1}
LOW_RATING_REASONS = [
    "排队时间太长，等了快四十分钟。",
    "窗口人员解释不够清楚，跑了两个窗口。",
    "材料清单和网上写的不一致，白跑一趟。",
    "叫号后窗口暂停服务，又等了很久。",
]
# Where a transferred applicant is sent, and why.
TRANSFERS = {
    "personal": ("other", "咨询的是公积金提取，转其他综合窗口办理。"),
    "other": ("personal", "需同时办理社保业务，转个人办事窗口。"),
    "enterprise": ("construction", "涉及建设项目审批，转工程建设窗口。"),
    "construction": ("enterprise", "先办理企业信息变更，转企业办事窗口。"),
}

# Today's queue: the tickets each queue takes in the hours before the load.
LIVE_TICKETS = {
    ("city", "personal"): 16,
    ("city", "enterprise"): 8,
    ("city", "construction"): 3,
    ("city", "other"): 2,
    ("chancheng", "personal"): 8,
    ("chancheng", "enterprise"): 3,
    ("zumiao", "personal"): 2,
}
LIVE_HOURS = dt.timedelta(minutes=150)
LIVE_FROM = (9, 30)  # a load before this time of a working day has no queue of today
DEMO_WINDOW = ("city", "A01")  # the demo clerk's window: someone is served there
LIVE_NO_SHOW = ("city", "A01", 3)  # the third ticket called there does not come
LIVE_TRANSFER = ("city", "B01", 2, "personal", "申请人办理的是个人社保业务，转个人办事窗口。")
# The appointment checked in today: (applicant, hall, category, booked by)
CHECKED_IN_TODAY = ("李四", "city", "personal", "clerk")

# Upcoming appointments: (applicant, hall, category, working days ahead, period,
# catalogue item or None, booked by: None for the applicant's own account)
UPCOMING = [
    (demo_cases.ZHANG, "city", "personal", 1, "am", "passport", None),
    (demo_cases.COMPANY, "city", "enterprise", 2, "pm", "company-change", None),
    ("王五", "chancheng", "personal", 1, "pm", None, "clerk_cc"),
    ("赵六", "chancheng", "personal", 2, "am", None, "clerk_cc"),
    (demo_cases.TECH, "city", "construction", 3, "am", None, "clerk_build"),
]
ITEMS = {entry[5] for entry in UPCOMING if entry[5]}

# 张三's own history: a served appointment and a cancelled one (working days ago).
ZHANG_SERVED_AGO = 8
ZHANG_CANCELLED_AGO = 3

PERSON_QUEUES = {"personal", "other"}


@dataclass
class Floor:
    """A demo hall as the generators need it."""

    key: str
    hall: Hall
    categories: dict[str, WindowCategory]  # the served ones, by code
    windows: dict[str, Window]  # by number
    serves: dict[str, list[Window]]  # category code → its windows
    clerks: dict[str, User] = field(default_factory=dict)  # window number → its demo clerk


def load(items: Mapping[str, ServiceItem]) -> dict[str, int]:
    """Load the demo hall; `items` are the catalogue items UPCOMING names, by key.
    Returns how many quotas, tickets and appointments were created."""
    floors = _floors()
    created = {"quotas": _quotas(floors), "tickets": 0, "appointments": 0}
    if Ticket.objects.filter(hall__in=[f.hall for f in floors]).exists():
        return created
    now = timezone.now()
    today = timezone.localdate(now)
    people = _applicants()
    history = _History(floors, people, today)
    history.write()
    live = _Live(floors, people, now)
    live.run()
    upcoming = _upcoming(floors, people, items, today)
    created["tickets"] = len(history.tickets) + live.tickets
    created["appointments"] = len(history.appointments) + live.appointments + upcoming
    return created


# --- the halls, the clerks, the applicants ----------------------------------------------------


def _floors() -> list[Floor]:
    clerks = {
        scope: username
        for username, _name, role, scope in city.STAFF
        if role == Role.WINDOW_CLERK and isinstance(scope, tuple)
    }
    users = User.objects.in_bulk(clerks.values(), field_name="username")
    floors = []
    for key, name, _region, _address, _windows in city.HALLS:
        hall = Hall.objects.get(name=name)
        windows = {
            w.number: w for w in hall.windows.filter(is_active=True).prefetch_related("categories")
        }
        serves: dict[str, list[Window]] = defaultdict(list)
        categories = {}
        for window in windows.values():
            for category in window.categories.all():
                if category.is_active:
                    serves[category.code].append(window)
                    categories[category.code] = category
        floor = Floor(key, hall, categories, windows, dict(serves))
        floor.clerks = {
            number: users[username]
            for (hall_key, number), username in clerks.items()
            if hall_key == key and number in windows and username in users
        }
        floors.append(floor)
    return floors


def _quotas(floors: list[Floor]) -> int:
    """QUOTA places per half-day for each category a hall serves. There is no quota service
    (the admin keeps them, audited): the rows and their audit events are written here."""
    existing = set(AppointmentQuota.objects.values_list("hall_id", "category_id", "period"))
    created = 0
    for floor in floors:
        for category in sorted(floor.categories.values(), key=lambda c: c.order):
            for period in Period.values:
                if (floor.hall.pk, category.pk, period) in existing:
                    continue
                quota = AppointmentQuota.objects.create(
                    hall=floor.hall, category=category, period=period, capacity=QUOTA
                )
                audit.record(
                    action="hall.quota.create",
                    obj=quota,
                    channel=Channel.SYSTEM,
                    payload={"repr": str(quota)},
                )
                created += 1
    return created


@dataclass
class _People:
    persons: list[Applicant]
    enterprises: list[Applicant]
    by_name: dict[str, Applicant]
    users: dict[str, User]

    def pool(self, category_code: str) -> list[Applicant]:
        """Who books the history's appointments: the applicants without an online account
        (the two demo accounts get their own few, so their pages stay readable)."""
        everyone = self.persons if category_code in PERSON_QUEUES else self.enterprises
        return [a for a in everyone if a.user_id is None]


def _applicants() -> _People:
    names = [p[0] for p in city.PERSONS] + [e[0] for e in city.ENTERPRISES]
    numbers = {demo_cases.identifier(name): name for name in names}
    found = Applicant.objects.filter(id_number__in=numbers.keys()) | Applicant.objects.filter(
        uscc__in=numbers.keys()
    )
    by_name = {numbers[a.id_number or a.uscc]: a for a in found.select_related("user")}
    users = {u.username: u for u in User.objects.filter(username__in=_staff_usernames())}
    return _People(
        persons=[by_name[p[0]] for p in city.PERSONS if p[0] in by_name],
        enterprises=[by_name[e[0]] for e in city.ENTERPRISES if e[0] in by_name],
        by_name=by_name,
        users=users,
    )


def _staff_usernames() -> set[str]:
    return {username for username, _n, role, _s in city.STAFF if role == Role.WINDOW_CLERK}


def _moment(day: dt.date, hour: int, minute: float = 0) -> dt.datetime:
    start = dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_default_timezone())
    return start + dt.timedelta(minutes=minute)


def _minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def _workday_before(day: dt.date, n: int) -> dt.date:
    """The n-th working day before `day`."""
    while n:
        day -= dt.timedelta(days=1)
        if workdays.is_workday(day):
            n -= 1
    return day


def _opening_moment(day: dt.date, rng: random.Random) -> dt.datetime:
    """A moment of `day` while the hall is open (within one of its half-days)."""
    begins, ends = periods.period_bounds(day, rng.choice(Period.values))
    return begins + _minutes(rng.uniform(0, (ends - begins).total_seconds() / 60 - 1))


# --- the history ---------------------------------------------------------------------------------


class _History:
    """The tickets and appointments of the working days of the last HISTORY_DAYS days,
    made in memory and written in bulk."""

    def __init__(self, floors: list[Floor], people: _People, today: dt.date):
        self.floors, self.people, self.today = floors, people, today
        self.rng = random.Random(f"yimen-hall-{today.isoformat()}")
        self.tickets: list[Ticket] = []
        self.appointments: list[Appointment] = []
        self.booked_at: dict[int, dt.datetime] = {}  # id(appointment) → when booked
        self.counters: list[TicketCounter] = []
        self.codes: set[str] = set()

    def days(self) -> list[dt.date]:
        span = (self.today - dt.timedelta(days=n) for n in range(HISTORY_DAYS, 0, -1))
        return [day for day in span if workdays.is_workday(day)]

    def write(self) -> None:
        days = self.days()
        for day in days:
            for floor in self.floors:
                self._day(floor, day)
        self._zhang(days)
        Appointment.objects.bulk_create(self.appointments, batch_size=500)
        # created_at is auto_now_add (set on insert): the booking moments are put back.
        for appointment in self.appointments:
            appointment.created_at = self.booked_at[id(appointment)]
        Appointment.objects.bulk_update(self.appointments, ["created_at"], batch_size=500)
        for ticket in self.tickets:
            ticket.appointment_id = ticket.appointment.pk if ticket.appointment else None
        Ticket.objects.bulk_create(self.tickets, batch_size=500)
        TicketCounter.objects.bulk_create(self.counters, batch_size=500)

    # one hall, one day

    def _day(self, floor: Floor, day: dt.date) -> None:
        rng = self.rng
        load = WEEKDAY_LOAD[day.weekday()]
        arrivals = []
        for code, category in floor.categories.items():
            usual = DAILY_TICKETS.get(floor.key, {}).get(code, 1)
            for _ in range(max(1, round(usual * load * rng.uniform(0.8, 1.2)))):
                arrivals.append((self._arrival(day), category))
        arrivals.sort(key=lambda a: a[0])
        numbers: Counter = Counter()
        seen: set[tuple[int, str]] = set()  # (applicant, period): one appointment each
        plans = []
        for issued, category in arrivals:
            numbers[category.queue_prefix] += 1
            ticket = Ticket(
                hall=floor.hall,
                day=day,
                number=f"{category.queue_prefix}{numbers[category.queue_prefix]:03d}",
                category=category,
                issued_at=issued,
                channel=Channel.ONLINE if rng.random() < 0.15 else Channel.KIOSK,
            )
            if rng.random() < APPOINTMENT_SHARE:
                self._appointment_for(ticket, floor, category, seen)
            wait = min(max(rng.lognormvariate(math.log(WAIT_MEDIAN), WAIT_SPREAD), 1.0), 70.0)
            if ticket.is_priority:
                wait *= 0.5
            plans.append((issued + _minutes(wait), ticket))
        self._serve(floor, sorted(plans, key=lambda p: p[0]))
        self._unused_appointments(floor, day, seen)
        self.counters += [
            TicketCounter(hall=floor.hall, prefix=prefix, day=day, last=last)
            for prefix, last in numbers.items()
        ]

    def _arrival(self, day: dt.date) -> dt.datetime:
        hours, weights = zip(*HOUR_WEIGHTS.items(), strict=True)
        hour = self.rng.choices(hours, weights)[0]
        return _moment(day, hour, self.rng.uniform(0, HOUR_MINUTES.get(hour, 60)))

    def _serve(self, floor: Floor, plans: list[tuple[dt.datetime, Ticket]]) -> None:
        """Each ticket goes to the window of its queue that is free first, at the moment it
        would have been called or when that window is free, whichever is later."""
        rng = self.rng
        if not plans:
            return
        free = {number: _moment(plans[0][1].day, 9) for number in floor.windows}

        def window_for(code: str, not_before: dt.datetime) -> tuple[Window, dt.datetime]:
            window = min(floor.serves[code], key=lambda w: free[w.number])
            return window, max(not_before, free[window.number])

        for wanted, ticket in plans:
            code = ticket.category.code
            window, called = window_for(code, wanted)
            ticket.called_at = ticket.last_called_at = called
            ticket.calls = 1
            self._at(ticket, floor, window)
            draw = rng.random()
            target = TRANSFERS.get(code, (None, ""))[0]
            if draw < NO_SHOW_SHARE:
                ticket.status = TicketStatus.NO_SHOW
                ticket.calls, ticket.last_called_at = 2, called + _minutes(2)
                free[window.number] = called + _minutes(3)
                continue
            if draw < NO_SHOW_SHARE + TRANSFER_SHARE and target in floor.serves:
                # Served a few minutes, then sent to the other queue, called there first.
                moved = called + _minutes(1 + rng.uniform(2, 4))
                free[window.number] = moved + _minutes(0.5)
                ticket.category = floor.categories[target]
                ticket.is_priority, ticket.transfers, ticket.calls = True, 1, 2
                window, called = window_for(target, moved + _minutes(rng.uniform(1, 5)))
                ticket.last_called_at = called
                self._at(ticket, floor, window)
            ticket.status = TicketStatus.DONE
            ticket.started_at = called + _minutes(rng.uniform(0.5, 1.5))
            ticket.finished_at = ticket.started_at + _minutes(rng.triangular(5, 20, 9))
            free[window.number] = ticket.finished_at + _minutes(0.5)
            if rng.random() < RATED_SHARE:
                ticket.rating = rng.choices(list(RATINGS), list(RATINGS.values()))[0]
                if ticket.rating <= 2:
                    ticket.rating_comment = rng.choice(LOW_RATING_REASONS)
        self.tickets += sorted((t for _w, t in plans), key=lambda t: t.issued_at)

    @staticmethod
    def _at(ticket: Ticket, floor: Floor, window: Window) -> None:
        ticket.window = window
        ticket.served_by = floor.clerks.get(window.number)

    # appointments

    def _code(self) -> str:
        while True:
            code = f"{self.rng.randrange(10**8):08d}"
            if code not in self.codes:
                self.codes.add(code)
                return code

    def _new_appointment(self, floor, category, applicant, day, period, status) -> Appointment:
        rng = self.rng
        own = applicant.user
        # Booked for them by a clerk of the queue (else of the hall, else the demo clerk).
        clerks = [
            floor.clerks[w.number] for w in floor.serves[category.code] if w.number in floor.clerks
        ]
        clerk = next(iter(clerks or floor.clerks.values()), None) or self.people.users["clerk"]
        appointment = Appointment(
            code=self._code(),
            applicant=applicant,
            booked_by=own or clerk,
            hall=floor.hall,
            category=category,
            day=day,
            period=period,
            status=status,
            channel=Channel.ONLINE if own else Channel.WINDOW,
        )
        if own:  # online, at any hour of any day
            booked = day - dt.timedelta(days=rng.randint(1, 6))
            moment = _moment(booked, rng.randint(8, 21), rng.uniform(0, 59))
        else:  # at a window: while the hall is open, on a working day
            moment = _opening_moment(_workday_before(day, rng.randint(1, 5)), rng)
        self.booked_at[id(appointment)] = moment
        self.appointments.append(appointment)
        return appointment

    def _appointment_for(self, ticket: Ticket, floor: Floor, category, seen: set) -> None:
        period = Period.MORNING if ticket.issued_at.hour < 13 else Period.AFTERNOON
        free = [a for a in self.people.pool(category.code) if (a.pk, period) not in seen]
        if not free:
            return
        applicant = self.rng.choice(free)
        seen.add((applicant.pk, period))
        ticket.appointment = self._new_appointment(
            floor, category, applicant, ticket.day, period, AppointmentStatus.CHECKED_IN
        )
        ticket.applicant, ticket.is_priority = applicant, True

    def _unused_appointments(self, floor: Floor, day: dt.date, seen: set) -> None:
        """A booking or two that nobody came for, and one cancelled the day before."""
        rng = self.rng
        for status, count in (
            (AppointmentStatus.MISSED, rng.randint(0, 2)),
            (AppointmentStatus.CANCELLED, rng.randint(0, 1)),
        ):
            for _ in range(count):
                code = rng.choice(list(floor.categories))
                period = rng.choice(Period.values)
                free = [a for a in self.people.pool(code) if (a.pk, period) not in seen]
                if not free:
                    continue
                applicant = rng.choice(free)
                seen.add((applicant.pk, period))
                appointment = self._new_appointment(
                    floor, floor.categories[code], applicant, day, period, status
                )
                if status == AppointmentStatus.CANCELLED:
                    appointment.cancel_reason = rng.choice(
                        ["行程有变，改天再来。", "已在网上办理。"]
                    )

    def _zhang(self, days: list[dt.date]) -> None:
        """张三 (`citizen`) gets a served, well-rated appointment and a cancelled one."""
        zhang = self.people.by_name.get(demo_cases.ZHANG)
        if zhang is None or len(days) < ZHANG_SERVED_AGO:
            return
        served_day, cancelled_day = days[-ZHANG_SERVED_AGO], days[-ZHANG_CANCELLED_AGO]
        ticket = next(
            (
                t
                for t in self.tickets
                if t.day == served_day
                and t.hall_id == self.floors[0].hall.pk
                and t.appointment is not None
                and t.status == TicketStatus.DONE
                and not t.transfers
                and t.category.code == "personal"
            ),
            None,
        )
        if ticket is not None:
            appointment = ticket.appointment
            appointment.applicant = ticket.applicant = zhang
            appointment.booked_by, appointment.channel = zhang.user, Channel.ONLINE
            ticket.rating, ticket.rating_comment = 5, "预约后到场十分钟就叫到号，办得很快。"
        floor = self.floors[0]
        cancelled = self._new_appointment(
            floor,
            floor.categories["personal"],
            zhang,
            cancelled_day,
            Period.AFTERNOON,
            AppointmentStatus.CANCELLED,
        )
        cancelled.cancel_reason = "临时出差，改天再约。"


# --- today ------------------------------------------------------------------------------------


def live_span(now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """When today's demo queue runs: up to LIVE_HOURS before the load, from the opening at
    9:00, ending before the hall closes at 17:30; None on a day off and before LIVE_FROM
    (the hall has barely opened: no queue yet)."""
    local = timezone.localtime(now)
    day = local.date()
    if not workdays.is_workday(day) or local < _moment(day, *LIVE_FROM):
        return None
    end = min(local - _minutes(1), _moment(day, 17, 25))
    start = max(end - LIVE_HOURS, _moment(day, 9))
    return start, end


def check_in_moment(span: tuple[dt.datetime, dt.datetime]) -> tuple[str, dt.datetime] | None:
    """(period, moment): when today's appointment checks in, shortly before the span ends,
    within the check-in time of one of today's periods; None on a day off or when no
    check-in time falls in the span."""
    start, end = span
    day = start.date()
    if not workdays.is_workday(day):
        return None
    for period in (Period.AFTERNOON, Period.MORNING):
        begins, ends = periods.period_bounds(day, period)
        earliest = max(begins - services.CHECK_IN_EARLY, start)
        latest = min(ends, end - _minutes(2))
        if earliest <= latest:
            return period, latest
    return None


def _open_before(moment: dt.datetime) -> dt.datetime:
    """`moment` if the hall is open then, else the last open minute before it that day (the
    opening at 9:00 when it is earlier): when a clerk could have booked at the window."""
    day = timezone.localtime(moment).date()
    for period in (Period.AFTERNOON, Period.MORNING):
        begins, ends = periods.period_bounds(day, period)
        if begins <= moment < ends:
            return moment
        if moment >= ends:
            return ends - _minutes(1)
    return _moment(day, 9)


class _Live:
    """Today's queue, walked through the services in time order with the clock held at
    each step's moment."""

    def __init__(self, floors: list[Floor], people: _People, now: dt.datetime):
        self.floors = {f.key: f for f in floors}
        self.people = people
        self.span = live_span(now)
        self.rng = random.Random(f"yimen-hall-live-{timezone.localdate(now).isoformat()}")
        self.events: list[tuple[dt.datetime, int, Callable[[dt.datetime], None]]] = []
        self.order = itertools.count()
        self.calls: Counter = Counter()  # tickets called per window
        self.tickets = self.appointments = 0

    def at(self, moment: dt.datetime, action: Callable[[dt.datetime], None]) -> None:
        heapq.heappush(self.events, (moment, next(self.order), action))

    def run(self) -> None:
        if self.span is None:
            return
        start, end = self.span
        for (hall_key, code), count in LIVE_TICKETS.items():
            floor = self.floors[hall_key]
            if code not in floor.categories:
                continue
            room = (end - start).total_seconds() / 60 - 3
            for minute in sorted(self.rng.uniform(0, room) for _ in range(count)):
                self.at(start + _minutes(minute), self._take(floor, floor.categories[code]))
        for floor in self.floors.values():
            for number, clerk in floor.clerks.items():
                first = start + _minutes(self.rng.uniform(2, 6))
                self.at(first, self._turn(floor, floor.windows[number], clerk))
        self._check_in()
        with mock.patch("django.utils.timezone.now") as clock:
            while self.events and self.events[0][0] <= end:
                moment, _n, action = heapq.heappop(self.events)
                clock.return_value = moment
                action(moment)
            clock.return_value = end
            self._someone_at_the_demo_window()

    def _take(self, floor: Floor, category: WindowCategory):
        def take(_moment: dt.datetime) -> None:
            channel = Channel.ONLINE if self.rng.random() < 0.2 else Channel.KIOSK
            services.ticket_take(hall=floor.hall, category=category, channel=channel)
            self.tickets += 1

        return take

    def _turn(self, floor: Floor, window: Window, clerk: User):
        """The clerk calls the next ticket and deals with it, then comes back for more."""

        def turn(moment: dt.datetime) -> None:
            ticket = services.ticket_call_next(window=window, clerk=clerk)
            if ticket is None:
                self.at(moment + _minutes(3), turn)
                return
            self.calls[(floor.key, window.number)] += 1
            nth = self.calls[(floor.key, window.number)]
            if (floor.key, window.number, nth) == LIVE_NO_SHOW:
                self.at(moment + _minutes(2), self._step(services.ticket_recall, ticket, clerk))
                self.at(moment + _minutes(3), self._step(services.ticket_no_show, ticket, clerk))
                self.at(moment + _minutes(3.5), turn)
                return
            self.at(moment + _minutes(1), self._step(services.ticket_start, ticket, clerk))
            hall_key, number, which, target, reason = LIVE_TRANSFER
            if (floor.key, window.number, nth) == (hall_key, number, which):
                self.at(
                    moment + _minutes(4),
                    self._step(
                        services.ticket_transfer,
                        ticket,
                        clerk,
                        category=floor.categories[target],
                        reason=reason,
                    ),
                )
                self.at(moment + _minutes(5), turn)
                return
            finished = moment + _minutes(1 + self.rng.triangular(5, 20, 9))
            self.at(finished, self._step(services.ticket_finish, ticket, clerk))
            if self.rng.random() < 0.6:
                self.at(finished + _minutes(0.5), self._rate(ticket))
            self.at(finished + _minutes(1), turn)

        return turn

    @staticmethod
    def _step(action, ticket: Ticket, clerk: User, **kwargs):
        def step(_moment: dt.datetime) -> None:
            action(ticket=ticket, clerk=clerk, **kwargs)

        return step

    def _rate(self, ticket: Ticket):
        def rate(_moment: dt.datetime) -> None:
            rating = self.rng.choices(list(RATINGS), list(RATINGS.values()))[0]
            comment = self.rng.choice(LOW_RATING_REASONS) if rating <= 2 else ""
            services.ticket_rate(ticket=ticket, rating=rating, comment=comment)

        return rate

    def _check_in(self) -> None:
        when = check_in_moment(self.span)
        name, hall_key, code, booked_by = CHECKED_IN_TODAY
        applicant = self.people.by_name.get(name)
        floor = self.floors[hall_key]
        if when is None or applicant is None or code not in floor.categories:
            return
        period, moment = when
        clerk = self.people.users[booked_by]
        booked = _open_before(moment - _minutes(50))
        appointment: list[Appointment] = []

        def book(_moment: dt.datetime) -> None:
            appointment.append(
                services.appointment_book(
                    applicant=applicant,
                    booked_by=clerk,
                    hall=floor.hall,
                    category=floor.categories[code],
                    day=moment.date(),
                    period=period,
                    channel=Channel.WINDOW,
                )
            )
            self.appointments += 1

        def check_in(_moment: dt.datetime) -> None:
            services.appointment_check_in(appointment=appointment[0], hall=floor.hall)
            self.tickets += 1

        self.at(booked, book)
        self.at(moment, check_in)

    def _someone_at_the_demo_window(self) -> None:
        """The demo clerk is serving someone when the demo opens."""
        hall_key, number = DEMO_WINDOW
        floor = self.floors[hall_key]
        window, clerk = floor.windows.get(number), floor.clerks.get(number)
        if window is None or clerk is None:
            return
        ticket = selectors.ticket_at(window)
        if ticket is None:
            ticket = services.ticket_call_next(window=window, clerk=clerk)
        if ticket is not None and ticket.status == TicketStatus.CALLED:
            services.ticket_start(ticket=ticket, clerk=clerk)


# --- upcoming appointments ------------------------------------------------------------------------


def _upcoming(
    floors: list[Floor], people: _People, items: Mapping[str, ServiceItem], today: dt.date
) -> int:
    by_key = {f.key: f for f in floors}
    booked = 0
    for name, hall_key, code, ahead, period, item, booked_by in UPCOMING:
        applicant, floor = people.by_name.get(name), by_key[hall_key]
        if applicant is None or code not in floor.categories:
            continue
        days = [d for d in periods.bookable_days(today=today) if d > today]
        if not days:
            continue
        day = days[min(ahead, len(days)) - 1]
        clerk = people.users.get(booked_by) if booked_by else None
        services.appointment_book(
            applicant=applicant,
            booked_by=clerk or applicant.user,
            hall=floor.hall,
            category=floor.categories[code],
            day=day,
            period=period,
            item=items.get(item) if item else None,
            channel=Channel.WINDOW if clerk else Channel.ONLINE,
        )
        booked += 1
    return booked
