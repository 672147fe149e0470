"""The window clerk's calling panel (叫号) and the hall's queue statistics.

The panel: the clerk sits at a window they may use (chosen once, kept in the session), calls
the next ticket, calls it again, starts and finishes the service, marks a no-show or sends
the applicant to another queue. Every action is a POST that names the ticket and the state
of it the clerk saw (its status and times called): a stale page or a double click gets a
400 message and never a second call. While nothing is at the window the waiting counts
refresh themselves (htmx, every 10 s).

The statistics: a hall's wait, service and satisfaction figures over up to 366 days, as a
page (with a tickets-by-hour bar chart drawn server-side in SVG) and as an xlsx workbook.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from yimen.cases.desk_views import render_console
from yimen.common.forms import StyledFormMixin, set_service_errors

from . import permissions, selectors, services
from .choices import TicketStatus

# The session remembers the window the clerk sits at.
SESSION_WINDOW = "yimen_hall_window"
# The statistics cover at most this many days, by default the last DEFAULT_SPAN_DAYS.
MAX_SPAN_DAYS = 366
DEFAULT_SPAN_DAYS = 30


# --- the calling panel ------------------------------------------------------------------------


class TransferForm(StyledFormMixin, forms.Form):
    """转窗: another queue served in the hall, and why."""

    category = forms.TypedChoiceField(label=_("Send to the queue"), coerce=int)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("The next window reads it, e.g. “business licence: enterprise window”."),
    )

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        # Read once: the page asks whether there are any, then lists them.
        self.categories = {
            c.pk: c
            for c in selectors.served_categories(ticket.hall_id).exclude(pk=ticket.category_id)
        }
        self.fields["category"].choices = [(pk, c.name) for pk, c in self.categories.items()]

    def clean_category(self):
        return self.categories[self.cleaned_data["category"]]


def _require_clerk(user) -> None:
    if not permissions.works_at_windows(user):
        raise PermissionDenied


def _seen(ticket) -> str:
    """The state of a ticket as the panel showed it: a changed ticket makes a stale POST."""
    return f"{ticket.public_id}:{ticket.status}:{ticket.calls}"


def _session_window(request, windows):
    """The window remembered in the session, else the only window the clerk may use."""
    chosen = request.session.get(SESSION_WINDOW)
    for window in windows:
        if window.pk == chosen:
            return window
    if len(windows) == 1:
        request.session[SESSION_WINDOW] = windows[0].pk
        return windows[0]
    return None


def _posted_window(request, windows):
    raw = request.POST.get("window", "")
    if not (raw.isascii() and raw.isdigit()):
        raise ValidationError(_("Choose a window."))
    for window in windows:
        if window.pk == int(raw):
            return window
    raise PermissionDenied(_("You do not work at this window."))


def _names_a_field(exc, form) -> bool:
    """Whether a service's refusal is about a field of the form (else about the ticket)."""
    return isinstance(exc, ValidationError) and any(
        name in form.fields for name in getattr(exc, "error_dict", ())
    )


def _message(exc) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc) or str(_("You may not do this."))


def _panel(request, windows, window, *, status=200, transfer_form=None):
    context = {"windows": windows, "window": window}
    if window is not None:
        ticket = selectors.ticket_at(window)
        if ticket is None:
            focus = "call"
        elif transfer_form is not None and transfer_form.errors:
            focus = "transfer"
        else:
            focus = "start" if ticket.status == TicketStatus.CALLED else "finish"
        if ticket is not None and transfer_form is None:
            transfer_form = TransferForm(ticket=ticket, auto_id="transfer_%s")
        context.update(
            ticket=ticket,
            seen=_seen(ticket) if ticket else "",
            serving=ticket is not None and ticket.status == TicketStatus.SERVING,
            called=ticket is not None and ticket.status == TicketStatus.CALLED,
            focus=focus,
            polling=ticket is None,
            transfer_form=transfer_form,
            queues=selectors.waiting_for(window),
            served=list(selectors.served_today(clerk=request.user)),
        )
    return render_console(request, "hall/window.html", context, status=status)


def _failed(request, windows, window, exc, *, transfer_form=None):
    """The panel again, with why nothing was done: 403 when not allowed, else 400."""
    messages.error(request, _message(exc))
    status = 403 if isinstance(exc, PermissionDenied) else 400
    if window is None:
        window = _session_window(request, windows)
    return _panel(request, windows, window, status=status, transfer_form=transfer_form)


@login_required
@require_GET
def panel(request):
    """The window's ticket and its buttons, the waiting counts and today's services; htmx
    asks for the waiting counts alone."""
    _require_clerk(request.user)
    windows = list(permissions.usable_windows(request.user))
    window = _session_window(request, windows)
    if request.htmx and window is not None:
        context = {
            "window": window,
            "queues": selectors.waiting_for(window),
            "polling": selectors.ticket_at(window) is None,
        }
        return render(request, "hall/window_queues.html", context)
    return _panel(request, windows, window)


@login_required
@require_POST
def choose(request):
    """Sit at a window (remembered for the session)."""
    _require_clerk(request.user)
    windows = list(permissions.usable_windows(request.user))
    try:
        window = _posted_window(request, windows)
    except (ValidationError, PermissionDenied) as exc:
        return _failed(request, windows, None, exc)
    request.session[SESSION_WINDOW] = window.pk
    messages.success(request, _("You are at window %(window)s.") % {"window": window.number})
    return redirect("window:panel")


@login_required
@require_POST
def call(request):
    """叫下一位: the next ticket of the window's queues (appointments and transfers first)."""
    _require_clerk(request.user)
    windows = list(permissions.usable_windows(request.user))
    window = None
    try:
        window = _posted_window(request, windows)
        ticket = services.ticket_call_next(window=window, clerk=request.user)
    except (ValidationError, PermissionDenied) as exc:
        return _failed(request, windows, window, exc)
    if ticket is None:
        messages.info(request, _("Nobody is waiting in the queues of this window."))
    else:
        messages.success(
            request,
            _("%(number)s called to window %(window)s.")
            % {"number": ticket.number, "window": window.number},
        )
    return redirect("window:panel")


@dataclass(frozen=True)
class _Action:
    service: object
    done: str


ACTIONS = {
    "recall": _Action(services.ticket_recall, _("%(number)s called again.")),
    "start": _Action(services.ticket_start, _("Serving %(number)s.")),
    "finish": _Action(services.ticket_finish, _("%(number)s served.")),
    "no_show": _Action(services.ticket_no_show, _("%(number)s did not come.")),
}


def _ticket_seen(request, window):
    """The ticket at the window, if it is still as the clerk saw it."""
    ticket = selectors.ticket_at(window)
    if ticket is None or _seen(ticket) != request.POST.get("seen", ""):
        raise ValidationError(
            _("The panel was out of date and nothing was done: check the ticket and try again.")
        )
    return ticket


@login_required
@require_POST
def act(request, action):
    """重呼, 开始办理, 办结, 过号 on the ticket at the window."""
    _require_clerk(request.user)
    windows = list(permissions.usable_windows(request.user))
    window = None
    try:
        window = _posted_window(request, windows)
        ticket = _ticket_seen(request, window)
        ACTIONS[action].service(ticket=ticket, clerk=request.user)
    except (ValidationError, PermissionDenied) as exc:
        return _failed(request, windows, window, exc)
    messages.success(request, ACTIONS[action].done % {"number": ticket.number})
    return redirect("window:panel")


@login_required
@require_POST
def transfer(request):
    """转窗: the ticket waits in another queue of the hall, called there first."""
    _require_clerk(request.user)
    windows = list(permissions.usable_windows(request.user))
    window = form = None
    try:
        window = _posted_window(request, windows)
        ticket = _ticket_seen(request, window)
        form = TransferForm(request.POST, ticket=ticket, auto_id="transfer_%s")
        if form.is_valid():
            services.ticket_transfer(
                ticket=ticket,
                clerk=request.user,
                category=form.cleaned_data["category"],
                reason=form.cleaned_data["reason"],
            )
    except (ValidationError, PermissionDenied) as exc:
        if form is not None and _names_a_field(exc, form):
            # The service's reasons go on the fields they are about, as the form's own do.
            set_service_errors(form, exc)
        else:
            return _failed(request, windows, window, exc, transfer_form=form)
    if form.errors:
        # Said on the form itself (the panel focuses its first invalid field): no message.
        return _panel(request, windows, window, status=400, transfer_form=form)
    messages.success(
        request,
        _("%(number)s sent to the queue %(queue)s.")
        % {"number": ticket.number, "queue": ticket.category.name},
    )
    return redirect("window:panel")


# --- the statistics ---------------------------------------------------------------------------


class StatsForm(StyledFormMixin, forms.Form):
    """A hall the user may read and a span of at most MAX_SPAN_DAYS days."""

    hall = forms.TypedChoiceField(
        label=_("Hall"),
        coerce=int,
        error_messages={"invalid_choice": _("Choose one of the halls whose figures you read.")},
    )
    first = forms.DateField(
        label=_("From"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    last = forms.DateField(
        label=_("To"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )

    def __init__(self, *args, halls, **kwargs):
        super().__init__(*args, **kwargs)
        self.halls = {h.pk: h for h in halls}
        self.fields["hall"].choices = [(h.pk, h.name) for h in halls]

    def clean_hall(self):
        return self.halls[self.cleaned_data["hall"]]

    def clean(self):
        data = super().clean()
        first, last = data.get("first"), data.get("last")
        if first and last:
            if first > last:
                self.add_error("last", _("The last day comes before the first."))
            elif (last - first).days + 1 > MAX_SPAN_DAYS:
                self.add_error("last", _("Choose at most %(days)s days.") % {"days": MAX_SPAN_DAYS})
        return data


class _Refused(Exception):
    def __init__(self, form):
        self.form = form


def _stats_query(request):
    """(form, hall, first, last) from the query string, defaults filled in; _Refused when it
    does not hold (400), a hall the user may not read included."""
    if not permissions.reads_statistics(request.user):
        raise PermissionDenied
    halls = list(permissions.halls_with_statistics(request.user))
    today = timezone.localdate()
    data = {
        "hall": request.GET.get("hall") or (halls[0].pk if halls else ""),
        "first": request.GET.get("first")
        or (today - dt.timedelta(days=DEFAULT_SPAN_DAYS - 1)).isoformat(),
        "last": request.GET.get("last") or today.isoformat(),
    }
    form = StatsForm(data, halls=halls)
    if not form.is_valid():
        raise _Refused(form)
    data = form.cleaned_data
    return form, data["hall"], data["first"], data["last"]


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class FigureRow:
    """One line of the figures: the hall's total or one queue."""

    label: str
    tickets: int
    served: int
    no_shows: int
    no_show_rate: float | None
    appointments: int
    appointment_share: float | None
    average_wait: float | None
    longest_wait: float | None
    average_service: float | None
    rated: int
    satisfaction: float | None

    @classmethod
    def of(cls, figures, label=None) -> FigureRow:
        return cls(
            label=str(label if label is not None else figures.label),
            tickets=figures.tickets,
            served=figures.served,
            no_shows=figures.no_shows,
            no_show_rate=_share(figures.no_shows, figures.tickets),
            appointments=figures.appointments,
            appointment_share=_share(figures.appointments, figures.tickets),
            average_wait=figures.average_wait,
            longest_wait=figures.longest_wait,
            average_service=figures.average_service,
            rated=figures.rated,
            satisfaction=figures.satisfaction,
        )


# Chart geometry (SVG user units).
BAR_STEP, BAR_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_BOTTOM = 40, 28, 160, 20, 24


def hour_chart(by_hour: dict[int, int]) -> dict | None:
    """The bars of tickets taken per hour, from 08:00 to 18:00 at least."""
    if not by_hour:
        return None
    hours = range(min(8, *by_hour), max(17, *by_hour) + 1)
    peak = max(by_hour.values())
    bars = []
    for i, hour in enumerate(hours):
        count = by_hour.get(hour, 0)
        height = round(CHART_HEIGHT * count / peak, 1)
        bars.append(
            {
                "hour": hour,
                "count": count,
                "x": i * BAR_STEP + (BAR_STEP - BAR_WIDTH) / 2,
                "middle": i * BAR_STEP + BAR_STEP / 2,
                "y": CHART_TOP + CHART_HEIGHT - height,
                "height": height,
                "label_y": CHART_TOP + CHART_HEIGHT - height - 4,
            }
        )
    return {
        "bars": bars,
        "bar_width": BAR_WIDTH,
        "width": len(bars) * BAR_STEP,
        "height": CHART_TOP + CHART_HEIGHT + CHART_BOTTOM,
        "base": CHART_TOP + CHART_HEIGHT,
        "hour_y": CHART_TOP + CHART_HEIGHT + 16,
        "peak": peak,
    }


@login_required
@require_GET
def stats(request):
    """A hall's queue figures over a span of days."""
    try:
        form, hall, first, last = _stats_query(request)
    except _Refused as refused:
        return render_console(request, "hall/stats.html", {"form": refused.form}, status=400)
    figures = selectors.hall_figures(hall, first=first, last=last)
    query = urlencode({"hall": hall.pk, "first": first.isoformat(), "last": last.isoformat()})
    context = {
        "form": form,
        "hall": hall,
        "first": first,
        "last": last,
        "days": (last - first).days + 1,
        "total": FigureRow.of(figures.total, label=_("All queues")),
        "queues": [FigureRow.of(q) for q in figures.queues],
        "chart": hour_chart(figures.by_hour),
        "export_url": f"{reverse('window:stats_export')}?{query}",
    }
    return render_console(request, "hall/stats.html", context)


# The workbook speaks Chinese: it goes to the hall's managers as it is.
XLSX_HEADERS = [
    "队列",
    "取号数",
    "已办结",
    "过号数",
    "过号率(%)",
    "预约取号数",
    "预约占比(%)",
    "平均等候(分钟)",
    "最长等候(分钟)",
    "平均办理(分钟)",
    "评价数",
    "满意率(%)",
]
XLSX_FIELDS = [
    "label",
    "tickets",
    "served",
    "no_shows",
    "no_show_rate",
    "appointments",
    "appointment_share",
    "average_wait",
    "longest_wait",
    "average_service",
    "rated",
    "satisfaction",
]


def figures_workbook(figures) -> bytes:
    """The figures as an xlsx workbook: 汇总 (the total and each queue) and 分时段取号."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "汇总"
    sheet.append(["大厅", figures.hall.name])
    sheet.append(["统计期间", f"{figures.first:%Y-%m-%d} 至 {figures.last:%Y-%m-%d}"])
    sheet.append([])
    sheet.append(XLSX_HEADERS)
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    rows = [FigureRow.of(figures.total, label="合计")] + [FigureRow.of(q) for q in figures.queues]
    for row in rows:
        sheet.append([getattr(row, name) for name in XLSX_FIELDS])
    sheet.column_dimensions["A"].width = 16
    sheet.freeze_panes = "B5"
    hours = book.create_sheet("分时段取号")
    hours.append(["时段", "取号数"])
    for cell in hours[1]:
        cell.font = Font(bold=True)
    for hour, count in figures.by_hour.items():
        hours.append([f"{hour:02d}:00–{hour + 1:02d}:00", count])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@login_required
@require_GET
def stats_export(request):
    """The same figures as an xlsx workbook (?hall=..&first=..&last=..)."""
    try:
        _form, hall, first, last = _stats_query(request)
    except _Refused as refused:
        form = refused.form
        lines = [
            f"{form.fields[name].label}: {' '.join(errors)}"
            if name in form.fields
            else " ".join(errors)
            for name, errors in form.errors.items()
        ]
        return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")
    figures = selectors.hall_figures(hall, first=first, last=last)
    response = HttpResponse(
        figures_workbook(figures),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"hall-{hall.pk}-{first:%Y%m%d}-{last:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
