"""The hotline's statistics page and its downloads: the figures of a month (or of any span of
days) as headline cards, bar charts drawn server-side in SVG (each with its numbers in a
table under it) and the unit ranking; the same figures as the xlsx workbook and the PDF
operation bulletin (运行情况通报).

For agents, supervisors and system admins (permissions.may_see_statistics) who see the whole
city: the figures are the city's, so a supervisor limited to a district (and holding no
other of those roles) gets a 403 like anyone else signed in. Nothing here is cached (the
figures of one moment, and not for a shared cache).

A bad month or date is a 400 naming the parameter and the reason: the page shows it on the
form, a download answers it as plain text. Every output reads the one
yimen.hotline.stats.figures of the period, so they state the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from yimen.common.forms import StyledFormMixin

from . import permissions, report, stats
from .choices import OrderChannel, OrderType, Satisfaction
from .consoles import render_console, require

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CATEGORY_BARS = 10  # the page charts the largest top-level categories; its table lists all


class PeriodForm(StyledFormMixin, forms.Form):
    """A month, or the first and last day (which win when given). The values are checked by
    yimen.hotline.stats.period_from, the parser the downloads and the command use."""

    month = forms.CharField(
        label=gettext_lazy("Month"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # `from` is a Python keyword: these two are added by name.
        self.fields["from"] = forms.CharField(
            label=gettext_lazy("From"),
            required=False,
            widget=forms.TextInput(attrs={"type": "date", "class": "form-control"}),
        )
        self.fields["to"] = forms.CharField(
            label=gettext_lazy("To"),
            required=False,
            widget=forms.TextInput(attrs={"type": "date", "class": "form-control"}),
            help_text=gettext_lazy("Both days count; a span replaces the month."),
        )
        self.period: stats.Period | None = None

    def clean(self):
        data = super().clean()
        try:
            self.period = stats.period_from(data)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        return data


def _form(request) -> PeriodForm:
    data = request.GET.copy()
    if not any(data.get(name) for name in ("month", "from", "to")):
        data["month"] = f"{timezone.localdate():%Y-%m}"
    form = PeriodForm(data)
    form.is_valid()
    return form


def _refusal(form: PeriodForm) -> HttpResponse:
    lines = [
        f"{form.fields[name].label}: {' '.join(errors)}"
        if name in form.fields
        else " ".join(errors)
        for name, errors in form.errors.items()
    ]
    return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")


def _filename(period: stats.Period, extension: str) -> str:
    if period.is_month:
        return f"12345-{period.month_param}.{extension}"
    return f"12345-{period.first:%Y%m%d}-{period.last:%Y%m%d}.{extension}"


# --- charts -----------------------------------------------------------------------------------
# SVG user units.
LABEL_WIDTH, BAR_AREA, TEXT_WIDTH, ROW, BAR_HEIGHT, PAD = 150, 340, 70, 26, 18, 6


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str


def bar_chart(
    chart_id: str,
    *,
    title: str,
    what: str,
    row_header: str,
    column: str,
    bars: list[Bar],
    maximum: float | None = None,
) -> dict | None:
    """A horizontal bar chart: one bar per row, the label on the left, the figure at the
    bar's end; geometry as strings, so the template writes them as they are."""
    if not bars:
        return None
    peak = maximum or max((bar.value for bar in bars), default=0) or 1
    rows = []
    for index, bar in enumerate(bars):
        length = BAR_AREA * bar.value / peak
        top = PAD + index * ROW
        rows.append(
            {
                "label": bar.label,
                "text": bar.text,
                "y": f"{top + (ROW - BAR_HEIGHT) / 2:.1f}",
                "width": f"{length:.1f}",
                "text_x": f"{LABEL_WIDTH + length + 4:.1f}",
                "middle": f"{top + ROW / 2 + 4:.1f}",
            }
        )
    highest = max(bars, key=lambda bar: bar.value)
    return {
        "id": chart_id,
        "title": title,
        "desc": _(
            "%(what)s: one bar each; the longest is %(label)s (%(text)s). The table under "
            "the chart gives every number."
        )
        % {"what": what, "label": highest.label, "text": highest.text},
        "row_header": row_header,
        "column": column,
        "rows": rows,
        "width": LABEL_WIDTH + BAR_AREA + TEXT_WIDTH,
        "height": PAD * 2 + len(bars) * ROW,
        "label_x": LABEL_WIDTH - 6,
        "bar_x": LABEL_WIDTH,
        "base_bottom": PAD + len(bars) * ROW,
    }


def _label(choices, key: str) -> str:
    return str(choices(key).label) if key in choices.values else key


def _counts(choices, counts) -> list[Bar]:
    return [Bar(_label(choices, key), n, str(n)) for key, n in counts]


def charts(figures: stats.Figures) -> list[dict]:
    """The page's charts, in order."""
    categories = [Bar(name or _("Uncategorised"), n, str(n)) for name, n in figures.by_category][
        :CATEGORY_BARS
    ]
    months = [point.label for point in figures.trend]
    found = [
        bar_chart(
            "chart-channel",
            row_header=_("Channel"),
            title=_("Orders received by channel"),
            what=_("Orders received by channel"),
            column=_("Orders"),
            bars=_counts(OrderChannel, figures.by_channel),
        ),
        bar_chart(
            "chart-type",
            row_header=_("Type"),
            title=_("Orders received by type"),
            what=_("Orders received by type"),
            column=_("Orders"),
            bars=_counts(OrderType, figures.by_type),
        ),
        bar_chart(
            "chart-category",
            row_header=_("Category"),
            title=_("Orders received by top-level category"),
            what=_("Orders received by top-level category"),
            column=_("Orders"),
            bars=categories,
        ),
        bar_chart(
            "chart-verdict",
            row_header=pgettext("callback", "Verdict"),
            title=_("Callback verdicts of the orders closed"),
            what=_("Callback verdicts"),
            column=_("Orders"),
            bars=_counts(Satisfaction, figures.verdicts.items()),
        ),
        bar_chart(
            "chart-trend-received",
            row_header=_("Month"),
            title=_("Orders received in the last six months"),
            what=_("Orders received per month"),
            column=_("Orders"),
            bars=[
                Bar(m, p.received, str(p.received))
                for m, p in zip(months, figures.trend, strict=True)
            ],
        ),
        bar_chart(
            "chart-trend-satisfaction",
            row_header=_("Month"),
            title=_("Satisfaction in the last six months"),
            what=_("Satisfaction per month"),
            column=_("Satisfaction"),
            bars=[
                Bar(m, float(p.satisfaction.percent or 0), str(p.satisfaction))
                for m, p in zip(months, figures.trend, strict=True)
            ],
            maximum=100,
        ),
    ]
    return [chart for chart in found if chart is not None]


# --- views ------------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def stats_page(request):
    """The figures of a month (?month=YYYY-MM, the current one by default) or of a span of
    days (?from=YYYY-MM-DD&to=YYYY-MM-DD)."""
    require(permissions.may_see_statistics, request.user)
    form = _form(request)
    if form.period is None or form.errors:
        return render_console(request, "hotline/stats/index.html", {"form": form}, status=400)
    period = form.period
    figures = stats.figures(period)
    query = urlencode(period.query)
    context = {
        "form": form,
        "period": period,
        "figures": figures,
        "headlines": stats.headlines(figures),
        "charts": charts(figures),
        "channels": [(_label(OrderChannel, k), n) for k, n in figures.by_channel],
        "types": [(_label(OrderType, k), n) for k, n in figures.by_type],
        "xlsx_url": f"{reverse('hotline:stats_xlsx')}?{query}",
        "pdf_url": f"{reverse('hotline:stats_pdf')}?{query}",
        "bulletin_title": report.title(figures),
    }
    return render_console(request, "hotline/stats/index.html", context)


@never_cache
@login_required
@require_GET
def stats_xlsx(request):
    """The figures as an xlsx workbook."""
    require(permissions.may_see_statistics, request.user)
    form = _form(request)
    if form.period is None or form.errors:
        return _refusal(form)
    response = HttpResponse(report.workbook(stats.figures(form.period)), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename(form.period, "xlsx")}"'
    return response


@never_cache
@login_required
@require_GET
def stats_pdf(request):
    """The operation bulletin (运行情况通报) as a PDF."""
    require(permissions.may_see_statistics, request.user)
    form = _form(request)
    if form.period is None or form.errors:
        return _refusal(form)
    response = HttpResponse(
        report.render_pdf(stats.figures(form.period)), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{_filename(form.period, "pdf")}"'
    return response
