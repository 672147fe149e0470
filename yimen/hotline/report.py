"""The monthly operation bulletin of the 12345 hotline (运行情况通报) as an A4 PDF, and the same
figures as an xlsx workbook. Both are drawn from one `yimen.hotline.stats.Figures`, so they
state the numbers the statistics page shows (rates through `Rate.percent` / `Rate.ratio`).

Like the case documents (yimen.cases.pdf) and the hall's workbook, the wording is Chinese
data, not gettext: the bulletin and the workbook go to the units as they are, whatever the
language of the person downloading them. `bulletin_lines` gives the bulletin's text in
reading order (what the tests and a plain-text view read); `render_pdf` lays the same
blocks out with reportlab's built-in CJK font (no font file), its bar charts drawn with
reportlab's graphics.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.conf import settings
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .stats import Figures, Rate, days_text, headlines
from .xlsx import as_text

FONT = "STSong-Light"
BEIJING = ZoneInfo("Asia/Shanghai")
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

CHANNELS = {
    "phone": "电话",
    "web": "网站",
    "wechat": "微信",
    "app": "APP",
    "sms": "短信",
    "letter": "信件",
    "kiosk": "市民之窗",
}
TYPES = {
    "consultation": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "建议",
    "praise": "表扬",
}
VERDICTS = {
    "satisfied": "满意",
    "basic": "基本满意",
    "unsatisfied": "不满意",
    "unreachable": "未联系上",
}
HEADLINES = {
    "received": "受理诉求（件）",
    "instant_rate": "即时答复率",
    "dispatched": "派单（件次）",
    "closed": "办结（件）",
    "sign_rate": "按时签收率",
    "reply_rate": "按时回复率",
    "satisfaction": "满意率",
    "average_days": "平均办理时长（工作日）",
    "returns_asked": "申请退单（件）",
    "returns_approved": "同意退单（件）",
    "extensions_asked": "申请延期（件）",
    "extensions_approved": "同意延期（件）",
    "duplicates": "重复件（件）",
    "supervisions": "督办单（件）",
    "yellow_cards": "黄牌（张）",
    "red_cards": "红牌（张）",
}
NO_CATEGORY = "未分类"
NONE = "–"
RANKING_RULE = (
    "排名依次按满意率、按时回复率、按时签收率从高到低，红牌、黄牌从少到多，办结量从多到少排列；"
    "尚无该项数据的单位排在有数据的单位之后。"
)


def city() -> str:
    """The city the bulletin is issued for (settings.YIMEN_CITY_NAME, 佛山市 by default)."""
    return settings.YIMEN_CITY_NAME


def title(figures: Figures) -> str:
    return f"{city()}12345热线运行情况通报（{figures.period.label_zh}）"


def _share(n: int, whole: int) -> str:
    return str(Rate(n, whole))


def _days(value: Decimal | None) -> str:
    return days_text(value)


def _cut_off(figures: Figures) -> str:
    moment = figures.now.astimezone(BEIJING)
    return f"{moment.year}年{moment.month}月{moment.day}日{moment:%H:%M}"


# --- the bulletin's blocks --------------------------------------------------------------------
# A block is (style, payload): text for the paragraph styles, rows for "table" and
# "ranking" (the unit table, laid out wider), a ChartSpec for "chart".


@dataclass(frozen=True)
class ChartSpec:
    """A horizontal bar chart: one bar per label, its text written at the bar's end."""

    caption: str
    labels: list[str]
    values: list[float]
    texts: list[str]
    maximum: float | None = None  # the axis' end (100 for percentages), else from the data

    @classmethod
    def counts(cls, caption: str, labels: list[str], counts: list[int]) -> ChartSpec:
        return cls(caption, labels, [float(n) for n in counts], [str(n) for n in counts])

    @classmethod
    def rates(cls, caption: str, labels: list[str], rates: list[Rate]) -> ChartSpec:
        values = [float(rate.percent or 0) for rate in rates]
        return cls(caption, labels, values, [str(rate) for rate in rates], maximum=100)


UNIT_COLUMNS = [
    "排名",
    "承办单位",
    "受理",
    "办结",
    "按时签收率",
    "按时回复率",
    "满意率",
    "平均办理（工作日）",
    "退单",
    "黄牌",
    "红牌",
]


def unit_table(figures: Figures) -> list[list[str]]:
    rows = [UNIT_COLUMNS]
    for row in figures.units:
        rows.append(
            [
                str(row.rank),
                row.name,
                str(row.received),
                str(row.closed),
                str(row.sign_rate),
                str(row.reply_rate),
                str(row.satisfaction),
                _days(row.average_days),
                str(row.returns.asked),
                str(row.yellow_cards),
                str(row.red_cards),
            ]
        )
    return rows


def _overview(f: Figures) -> list[tuple[str, Any]]:
    p = f.period.label_zh
    average = (
        f"经承办单位办理后办结的{f.handling.orders}件工单，平均办理时长{_days(f.average_days)}个"
        "工作日（自派单次日起至办结日，按工作日计）。"
        if f.handling.orders
        else "本期无经承办单位办理后办结的工单。"
    )
    return [
        ("heading", "一、总体情况"),
        (
            "body",
            f"{p}，12345热线共受理群众诉求{f.received}件，其中即时答复{f.instant}件，即时答复率"
            f"{f.instant_rate}；派单{f.dispatched}件次；办结{f.closed}件。",
        ),
        (
            "body",
            f"承办单位按时签收率{f.sign_rate}（应签收{f.sign.rate.whole}件，按时签收"
            f"{f.sign.on_time}件），按时回复率{f.reply_rate}（应回复{f.reply.rate.whole}件，"
            f"按时回复{f.reply.on_time}件，超时仍未回复{f.reply.running_late}件）。",
        ),
        ("body", f"回访满意率{f.satisfaction}。{average}"),
        (
            "body",
            f"承办单位申请退单{f.returns.asked}件，同意{f.returns.approved}件；申请延期"
            f"{f.extensions.asked}件，同意{f.extensions.approved}件；合并重复件"
            f"{f.duplicates}件。",
        ),
    ]


def _breakdown_sentence(
    what: str, counts: list[tuple[str, int]], names: dict[str, str], total: int
) -> str:
    parts = [f"{names.get(key, key)}{n}件（{_share(n, total)}）" for key, n in counts if n]
    if not parts:
        return f"本期无{what}数据。"
    return f"从{what}看，" + "，".join(parts) + "。"


def _channels_and_types(f: Figures) -> list[tuple[str, Any]]:
    categories = [(name or NO_CATEGORY, n) for name, n in f.by_category]
    return [
        ("heading", "二、渠道与类型"),
        ("body", _breakdown_sentence("受理渠道", f.by_channel, CHANNELS, f.received)),
        (
            "chart",
            ChartSpec.counts(
                "图1 各渠道受理量（件）",
                [CHANNELS.get(k, k) for k, _n in f.by_channel],
                [n for _k, n in f.by_channel],
            ),
        ),
        ("body", _breakdown_sentence("诉求类型", f.by_type, TYPES, f.received)),
        (
            "chart",
            ChartSpec.counts(
                "图2 各类型受理量（件）",
                [TYPES.get(k, k) for k, _n in f.by_type],
                [n for _k, n in f.by_type],
            ),
        ),
        (
            "body",
            _breakdown_sentence("一级分类", categories, {}, f.received)
            if categories
            else "本期无一级分类数据。",
        ),
        (
            "table",
            [["一级分类", "件数", "占比"]]
            + [[name, str(n), _share(n, f.received)] for name, n in categories],
        ),
    ]


def _ranking(f: Figures) -> list[tuple[str, Any]]:
    blocks: list[tuple[str, Any]] = [("heading", "三、承办单位排名")]
    if not f.units:
        return [*blocks, ("body", "本期无承办单位数据。")]
    return [*blocks, ("body", RANKING_RULE), ("ranking", unit_table(f))]


def _cards(f: Figures) -> list[tuple[str, Any]]:
    blocks: list[tuple[str, Any]] = [
        ("heading", "四、黄牌红牌与督办"),
        (
            "body",
            f"本期对超时工单共发出黄牌{f.yellow_cards}张、红牌{f.red_cards}张；下发督办单"
            f"{f.supervisions}件，已答复{f.supervisions_answered}件。",
        ),
    ]
    carded = [row for row in f.units if row.cards]
    if carded:
        names = "；".join(
            f"{row.name}（"
            + "、".join(
                part
                for part in (
                    f"黄牌{row.yellow_cards}张" if row.yellow_cards else "",
                    f"红牌{row.red_cards}张" if row.red_cards else "",
                )
                if part
            )
            + "）"
            for row in sorted(carded, key=lambda r: (-r.red_cards, -r.yellow_cards, r.rank))
        )
        blocks.append(("body", f"被亮牌的单位：{names}。"))
    else:
        blocks.append(("body", "本期无单位被亮牌。"))
    supervised = [row for row in f.units if row.supervisions]
    if supervised:
        names = "；".join(f"{row.name}（{row.supervisions}件）" for row in supervised)
        blocks.append(("body", f"被督办的单位：{names}。"))
    return blocks


def _satisfaction(f: Figures) -> list[tuple[str, Any]]:
    v = f.verdicts
    called = v.given + v.unreachable
    sentence = (
        f"本期办结工单回访{called}件，其中满意{v.satisfied}件、基本满意{v.basic}件、不满意"
        f"{v.unsatisfied}件、未联系上{v.unreachable}件（不计入满意率）；满意率"
        f"{f.satisfaction}（满意与基本满意之和占作出评价件数的比例）。"
    )
    months = [f"{p.month.year}年{p.month.month}月" for p in f.trend]
    trend = [["月份", "受理量（件）", "满意率"]] + [
        [month, str(p.received), str(p.satisfaction)]
        for month, p in zip(months, f.trend, strict=True)
    ]
    return [
        ("heading", "五、满意度"),
        ("body", sentence),
        (
            "chart",
            ChartSpec.counts(
                "图3 回访结果（件）",
                [VERDICTS[k] for k, _n in v.items()],
                [n for _k, n in v.items()],
            ),
        ),
        ("body", "近六个月受理量与满意率："),
        ("table", trend),
        (
            "chart",
            ChartSpec.counts("图4 近六个月受理量（件）", months, [p.received for p in f.trend]),
        ),
        (
            "chart",
            ChartSpec.rates("图5 近六个月满意率（%）", months, [p.satisfaction for p in f.trend]),
        ),
    ]


def bulletin_blocks(figures: Figures) -> list[tuple[str, Any]]:
    return [
        ("title", title(figures)),
        ("subtitle", f"（数据截至{_cut_off(figures)}）"),
        *_overview(figures),
        *_channels_and_types(figures),
        *_ranking(figures),
        *_cards(figures),
        *_satisfaction(figures),
    ]


def bulletin_lines(figures: Figures) -> list[str]:
    """The bulletin's text in reading order: paragraphs, each table row joined by spaces,
    each chart's caption."""
    lines = []
    for style, payload in bulletin_blocks(figures):
        if style in ("table", "ranking"):
            lines += [" ".join(row) for row in payload]
        elif style == "chart":
            lines.append(payload.caption)
        else:
            lines.append(payload)
    return lines


# --- the PDF ----------------------------------------------------------------------------------


def _style(name: str, size: float, **kwargs) -> ParagraphStyle:
    kwargs.setdefault("leading", size * 1.6)
    return ParagraphStyle(name, fontName=FONT, fontSize=size, wordWrap="CJK", **kwargs)


STYLES = {
    "title": _style("title", 18, alignment=TA_CENTER, spaceAfter=2),
    "subtitle": _style("subtitle", 10.5, alignment=TA_CENTER, spaceAfter=8),
    "heading": _style("heading", 14, spaceBefore=10, spaceAfter=4),
    "body": _style("body", 12, firstLineIndent=24),
    "caption": _style("caption", 10, alignment=TA_CENTER),
    "cell": _style("cell", 9, leading=12),
}
WIDTH = A4[0] - 40 * mm
RANKING_WIDTHS = (8, 46, 10, 10, 17, 17, 16, 14, 10, 10, 10)  # mm, 168 in all
BAR = colors.HexColor("#0d6efd")


def _step(peak: float) -> float:
    """A round step for an axis of counts up to `peak`: 1, 2 or 5 × 10ⁿ, about five ticks."""
    step = 1.0
    while peak / step > 5:
        for factor in (2, 2.5, 2):
            step *= factor
            if peak / step <= 5:
                break
    return step


def chart_drawing(spec: ChartSpec) -> Drawing:
    """A horizontal bar chart, first label on top, each bar's text at its end."""
    n = max(len(spec.labels), 1)
    band = 16
    drawing = Drawing(WIDTH, n * band + 24)
    chart = HorizontalBarChart()
    chart.x, chart.y = 70, 14
    chart.width, chart.height = WIDTH - 110, n * band
    # reportlab draws the first category at the bottom: reversed, it reads top-down.
    chart.data = [list(reversed(spec.values)) or [0]]
    chart.categoryAxis.categoryNames = list(reversed(spec.labels)) or [""]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 9
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    peak = max(spec.values, default=0)
    chart.valueAxis.valueMin = 0
    if spec.maximum is not None:
        chart.valueAxis.valueMax, chart.valueAxis.valueStep = spec.maximum, spec.maximum / 5
    else:
        step = _step(max(peak, 1))
        chart.valueAxis.valueStep = step
        chart.valueAxis.valueMax = step * (int(max(peak, 1) // step) + 1)
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#dee2e6")
    chart.bars[0].fillColor = BAR
    chart.bars[0].strokeColor = None
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 8
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    chart.barLabelArray = [list(reversed(spec.texts))]
    chart.barLabelFormat = "values"
    drawing.add(chart)
    return drawing


def _table(rows: list[list[str]], *, ranking: bool) -> Table:
    cells = [[Paragraph(escape(cell), STYLES["cell"]) for cell in row] for row in rows]
    columns = len(rows[0])
    widths = [w * mm for w in RANKING_WIDTHS] if ranking else [WIDTH / columns] * columns
    table = Table(cells, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#6c757d")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def render_pdf(figures: Figures) -> bytes:
    """The bulletin as an A4 PDF (reproducible: the same figures give the same bytes)."""
    flow = []
    for style, payload in bulletin_blocks(figures):
        if style in ("table", "ranking"):
            flow += [_table(payload, ranking=style == "ranking"), Spacer(0, 4)]
        elif style == "chart":
            flow.append(
                KeepTogether(
                    [
                        chart_drawing(payload),
                        Paragraph(escape(payload.caption), STYLES["caption"]),
                        Spacer(0, 4),
                    ]
                )
            )
        else:
            flow.append(Paragraph(escape(payload), STYLES[style]))
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title(figures),
        author=f"{city()}12345热线",
        creator="Yimen",
        invariant=1,
    ).build(flow)
    return buffer.getvalue()


# --- the workbook -----------------------------------------------------------------------------

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="0D6EFD")
TITLE_FONT = Font(bold=True, size=14)
PERCENT_FORMAT = "0.00%"
DAYS_FORMAT = "0.00"


@dataclass(frozen=True)
class Col:
    header: str
    value: Callable[[Any], Any]
    width: int = 12
    format: str | None = None


def _rate(rate: Rate) -> float | None:
    """A rate as the workbook stores it: the shown percentage over 100 (0.9993)."""
    ratio = rate.ratio
    return None if ratio is None else float(ratio)


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _sheet(book: Workbook, name: str, cols: list[Col], rows: list[Any], *, first_row: int = 1):
    sheet = book.create_sheet(name)
    for _i in range(first_row - 1):
        sheet.append([])
    sheet.append([col.header for col in cols])
    for cell in sheet[first_row]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in rows:
        sheet.append([col.value(row) for col in cols])
        as_text(sheet[sheet.max_row])
    for index, col in enumerate(cols, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = col.width
        if col.format:
            for (cell,) in sheet.iter_rows(min_row=first_row + 1, min_col=index, max_col=index):
                cell.number_format = col.format
    sheet.freeze_panes = sheet.cell(row=first_row + 1, column=1).coordinate
    return sheet


def workbook(figures: Figures) -> bytes:
    """The figures as an xlsx workbook: 总体情况 (the headline figures), 受理渠道, 诉求类型,
    一级分类, 回访结果, 承办单位排名 and 月度趋势; header rows styled and frozen, rates stored
    as numbers formatted as percentages."""
    f = figures
    book = Workbook()
    book.remove(book.active)

    def headline_value(h):
        if h.kind == "rate":
            return _rate(h.value)
        if h.kind == "days":
            return _number(h.value)
        return h.value

    def headline_format(h):
        return {"rate": PERCENT_FORMAT, "days": DAYS_FORMAT}.get(h.kind, "0")

    heads = headlines(f)
    sheet = _sheet(
        book,
        "总体情况",
        [
            Col("指标", lambda h: HEADLINES[h.key], 26),
            Col("数值", headline_value, 12),
            Col("分子", lambda h: h.value.part if h.kind == "rate" else None, 10),
            Col("分母", lambda h: h.value.whole if h.kind == "rate" else None, 10),
        ],
        heads,
        first_row=4,
    )
    sheet["A1"], sheet["A2"] = title(f), f"统计期间：{f.period.label_zh}"
    sheet["A1"].font = TITLE_FONT
    sheet["C2"] = f"数据截至：{_cut_off(f)}"
    for offset, h in enumerate(heads, start=5):
        sheet.cell(row=offset, column=2).number_format = headline_format(h)

    def breakdown(name, header, counts, names):
        _sheet(
            book,
            name,
            [
                Col(header, lambda kv: names.get(kv[0], kv[0]) or NO_CATEGORY, 20),
                Col("件数", lambda kv: kv[1], 10),
                Col("占比", lambda kv: _rate(Rate(kv[1], f.received)), 10, PERCENT_FORMAT),
            ],
            counts,
        )

    breakdown("受理渠道", "渠道", f.by_channel, CHANNELS)
    breakdown("诉求类型", "类型", f.by_type, TYPES)
    breakdown("一级分类", "一级分类", f.by_category, {})
    verdicts = f.verdicts.items()
    _sheet(
        book,
        "回访结果",
        [
            Col("回访结果", lambda kv: VERDICTS[kv[0]], 14),
            Col("件数", lambda kv: kv[1], 10),
            Col(
                "占作出评价件数",
                lambda kv: None if kv[0] == "unreachable" else _rate(Rate(kv[1], f.verdicts.given)),
                16,
                PERCENT_FORMAT,
            ),
        ],
        verdicts,
    )
    _sheet(
        book,
        "承办单位排名",
        [
            Col("排名", lambda r: r.rank, 6),
            Col("承办单位", lambda r: r.name, 36),
            Col("受理", lambda r: r.received, 8),
            Col("办结", lambda r: r.closed, 8),
            Col("按时签收率", lambda r: _rate(r.sign_rate), 12, PERCENT_FORMAT),
            Col("按时回复率", lambda r: _rate(r.reply_rate), 12, PERCENT_FORMAT),
            Col("满意率", lambda r: _rate(r.satisfaction), 10, PERCENT_FORMAT),
            Col("平均办理（工作日）", lambda r: _number(r.average_days), 12, DAYS_FORMAT),
            Col("申请退单", lambda r: r.returns.asked, 10),
            Col("同意退单", lambda r: r.returns.approved, 10),
            Col("申请延期", lambda r: r.extensions.asked, 10),
            Col("督办", lambda r: r.supervisions, 8),
            Col("黄牌", lambda r: r.yellow_cards, 8),
            Col("红牌", lambda r: r.red_cards, 8),
        ],
        f.units,
    )
    _sheet(
        book,
        "月度趋势",
        [
            Col("月份", lambda p: p.label, 10),
            Col("受理量", lambda p: p.received, 10),
            Col("满意率", lambda p: _rate(p.satisfaction), 10, PERCENT_FORMAT),
        ],
        f.trend,
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
