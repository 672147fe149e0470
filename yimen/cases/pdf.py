"""Draws a case document (文书) as an A4 PDF from what it states (`CaseDocument.content`).

The wording is Chinese data, not gettext: a legal document reads the same whatever
language the screen is in. `document_lines` gives the text in reading order (what the
tests and any plain-text view read); `render` lays the same blocks out with reportlab's
built-in CJK font (no font file) and a QR code to the public verify page. Output is
byte-for-byte reproducible: the PDF is drawn again on every download.
"""

from __future__ import annotations

import datetime as dt
import io
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    HRFlowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .choices import DeliveryMethod, DocumentKind
from .documents import TITLES
from .models import CaseDocument

K = DocumentKind
FONT = "STSong-Light"
BEIJING = ZoneInfo("Asia/Shanghai")
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

LAW = "《中华人民共和国行政许可法》"
SPECIAL_TIME = (
    "依法需要听证、招标、拍卖、检验、检测、检疫、鉴定、专家评审和现场勘验的，"
    "所需时间不计算在上述期限内，本机关将另行书面告知。"
)
SIGN_LINE = "________________"
BLANK_DATE = "________年_____月_____日"  # filled in by hand


# --- the facts, as printed --------------------------------------------------------------------


def date_text(value) -> str:
    """2026年11月23日, in Beijing time; a blank date line when there is none."""
    if not value:
        return BLANK_DATE
    moment = parse_datetime(value) if isinstance(value, str) else value
    if moment is None:
        return str(value)
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(BEIJING)
        moment = moment.date()
    return f"{moment.year}年{moment.month}月{moment.day}日"


def limit_text(limit, unit) -> str:
    if limit is None:
        return ""
    if isinstance(limit, dict):
        limit, unit = limit.get("limit"), limit.get("unit")
        if limit is None:
            return ""
    if limit == 0:
        return "当场"
    return f"{limit}个工作日" if unit == "workdays" else f"{limit}日"


def _you(c: dict) -> str:
    return {"person": "你", "enterprise": "你单位"}.get(c.get("applicant_kind"), "你（单位）")


def _identifier_label(c: dict) -> str:
    return {"person": "公民身份号码", "enterprise": "统一社会信用代码"}.get(
        c.get("applicant_kind"), "证件号码"
    )


def _applied(c: dict) -> str:
    return f"{_you(c)}于{date_text(c.get('submitted_at'))}提出的{c.get('item', '')}申请"


def _accepted(c: dict) -> str:
    return f"{_applied(c)}，本机关已于{date_text(c.get('accepted_at'))}受理。"


def verify_url(document: CaseDocument) -> str:
    """The absolute address of the document's public verify page (what the QR code holds)."""
    path = reverse("case_documents:verify", args=[document.code])
    return settings.YIMEN_PUBLIC_URL.rstrip("/") + path


# --- what each kind says ----------------------------------------------------------------------
# A block is (style, text); the styles are laid out by `render`.


def _numbered(rows: list[str]) -> list[tuple[str, str]]:
    return [("item", f"{n}．{row}") for n, row in enumerate(rows, 1)]


def _reason(c: dict) -> list[tuple[str, str]]:
    reason = (c.get("reason") or "（未载明）").strip()
    return [("body", reason if reason[-1] in "。！？；.!?;）)" else reason + "。")]


def _receipt(c: dict) -> list[tuple[str, str]]:
    materials = [
        m["material"] + ("（原件已核验）" if m.get("original") else "")
        for m in c.get("materials", ())
    ]
    received = date_text(c.get("received_at"))
    if materials:
        opening = f"{_applied(c)}，本机关已于{received}收到下列申请材料："
    else:
        opening = f"{_applied(c)}，本机关已于{received}收到申请材料。"
    return [
        ("body", opening),
        *_numbered(materials),
        (
            "body",
            "本凭证仅证明本机关已收到上述申请材料，不表示申请已被受理。本机关将自收到申请材料"
            "之日起五个工作日内作出是否受理的决定；逾期不告知的，自收到申请材料之日起即为受理。",
        ),
    ]


def _acceptance(c: dict) -> list[tuple[str, str]]:
    accepted = date_text(c.get("accepted_at"))
    if c.get("deemed"):
        blocks = [
            (
                "body",
                f"{_applied(c)}，本机关自收到申请材料之日起五个工作日内未作出是否受理的决定，"
                f"也未告知补正。根据{LAW}第三十二条第一款第（四）项的规定，该申请自收到申请"
                f"材料之日（{accepted}）起即为受理。",
            )
        ]
    else:
        blocks = [
            (
                "body",
                f"经审查，{_applied(c)}，申请材料齐全、符合法定形式。根据{LAW}第三十二条第一款"
                f"第（五）项的规定，本机关决定予以受理，受理日期为{accepted}。",
            )
        ]
    promised = limit_text(c.get("promised"), None)
    statutory = limit_text(c.get("statutory"), None)
    if promised == "当场":
        blocks.append(("body", "本事项为即办件，本机关将当场作出决定。"))
    elif promised:
        sentence = f"本机关承诺自受理之日起{promised}内作出决定"
        if statutory:
            sentence += f"（法定期限为{statutory}）"
        if c.get("due_at"):
            sentence += f"，预计办结日期为{date_text(c['due_at'])}"
        blocks.append(("body", sentence + "。" + SPECIAL_TIME))
    if opened := c.get("cases"):
        blocks.append(("body", "本申请为主题式联审联办，已同时分送下列部门并联审批："))
        blocks += _numbered(
            [
                f"{row['item']}（{row['department']}，办件编号{row['number']}"
                + (f"，预计{date_text(row['due_at'])}前办结" if row.get("due_at") else "")
                + "）"
                for row in opened
            ]
        )
    if supply := c.get("to_supply"):
        blocks.append(
            (
                "body",
                "本申请为容缺受理。请于下列期限内补交容缺材料；材料补齐前，本机关不出具办理结果：",
            )
        )
        blocks += _numbered(
            [f"{m['material']}，于{date_text(m.get('supply_by'))}前补交" for m in supply]
        )
    blocks.append(("body", "你可凭办件编号和证件号码在政务服务网或服务窗口查询办理进度。"))
    return blocks


def _non_acceptance(c: dict) -> list[tuple[str, str]]:
    return [
        ("body", f"经审查，{_applied(c)}不符合受理条件，理由如下："),
        *_reason(c),
        ("body", f"根据{LAW}第三十二条第一款的规定，本机关决定不予受理。"),
        ("remedy", c.get("remedies", "")),
    ]


def _correction(c: dict) -> list[tuple[str, str]]:
    items = [f"{i.get('material') or '申请表'}：{i.get('problem', '')}" for i in c.get("items", ())]
    return [
        (
            "body",
            f"经审查，{_applied(c)}，申请材料不齐全或者不符合法定形式。根据{LAW}第三十二条第一款"
            f"第（四）项的规定，现一次性告知{_you(c)}需要补正的全部内容如下：",
        ),
        *_numbered(items),
        (
            "body",
            "请按上述要求补正全部材料后重新提交。补正材料所需时间不计算在受理期限内，"
            "本机关收到补正材料后继续审查。",
        ),
    ]


def _tolerance(c: dict) -> list[tuple[str, str]]:
    me = "本单位" if c.get("applicant_kind") == "enterprise" else "本人"
    materials = c.get("materials", ())
    rows = [
        f"{m['material']}：于{date_text(m.get('supply_by'))}前补交"
        + (f"（{m['how']}）" if m.get("how") else "")
        for m in materials
    ]
    return [
        (
            "body",
            f"{me}{c.get('applicant', '')}（{_identifier_label(c)}："
            f"{c.get('applicant_identifier', '')}）申请办理{c.get('item', '')}（办件编号："
            f"{c.get('case_number', '')}），下列申请材料暂缺：",
        ),
        *_numbered(rows),
        ("body", f"{me}现申请容缺受理，并郑重承诺："),
        ("body", "一、所提交的申请材料真实、合法、有效，如有虚假，愿承担法律责任；"),
        ("body", f"二、在上述期限内补齐容缺材料；逾期未补齐的，{me}同意终止办理本申请；"),
        ("body", "三、容缺材料补齐前，不要求领取办理结果。"),
        ("signature", f"承诺人（签字或盖章）：{SIGN_LINE}"),
        ("signature", f"日期：{BLANK_DATE}"),
    ]


def _special_procedure(c: dict) -> list[tuple[str, str]]:
    procedure = c.get("procedure") or "特别程序"
    paused = f"自{date_text(c['paused_at'])}起" if c.get("paused_at") else ""
    return [
        ("body", f"{_accepted(c)}经审查，该申请依法需要进行{procedure}，事由如下："),
        *_reason(c),
        (
            "body",
            f"根据{LAW}第四十五条的规定，{procedure}所需时间不计算在作出行政许可决定的期限内。"
            f"办理期限{paused}暂停计算，{procedure}结束后继续计算。特此告知。",
        ),
    ]


def _extension(c: dict) -> list[tuple[str, str]]:
    days = limit_text(c.get("days"), c.get("unit"))
    due = f"，延长后的办理期限至{date_text(c['due_at'])}" if c.get("due_at") else ""
    return [
        ("body", f"{_accepted(c)}因下列原因，本机关不能在规定期限内作出行政许可决定："),
        *_reason(c),
        (
            "body",
            f"经本机关负责人批准，根据{LAW}第四十二条第一款的规定，办理期限延长{days}{due}。"
            "特此告知。",
        ),
    ]


def _approval(c: dict) -> list[tuple[str, str]]:
    basis = "、".join(c.get("legal_basis") or ())
    basis = f"和{basis}" if basis else ""
    blocks = [
        (
            "body",
            f"{_accepted(c)}经审查，该申请符合法定条件、标准。根据{LAW}第三十八条第一款{basis}"
            "的规定，本机关决定准予行政许可。",
        )
    ]
    if c.get("reason"):
        blocks.append(("body", f"审查意见：{c['reason']}"))
    fee = c.get("fee")
    if fee not in (None, ""):
        blocks.append(("body", f"依法应缴纳费用人民币{fee}元，请在领取办理结果前缴纳。"))
    else:
        blocks.append(("body", "本事项不收取费用。"))
    blocks.append(
        ("body", f"本机关将自作出决定之日起十个工作日内向{_you(c)}颁发、送达行政许可证件。")
    )
    return blocks


def _denial(c: dict) -> list[tuple[str, str]]:
    return [
        ("body", f"{_accepted(c)}经审查，该申请不符合法定条件、标准，理由如下："),
        *_reason(c),
        ("body", f"根据{LAW}第三十八条第二款的规定，本机关决定不予行政许可。"),
        ("remedy", c.get("remedies", "")),
    ]


def _service_receipt(c: dict) -> list[tuple[str, str]]:
    blocks = [("field", f"受送达人：{c.get('applicant', '')}")]
    for served in c.get("served", ()):
        number = f"（文书编号：{served['number']}）" if served.get("number") else ""
        blocks.append(("field", f"送达文书：{served['title']}{number}"))
    blocks.append(("field", f"送达方式：{c.get('method', '')}"))
    if c.get("tracking_number"):
        blocks.append(("field", f"邮件号码：{c['tracking_number']}"))
    blocks.append(("field", f"送达日期：{date_text(c.get('delivered_at'))}"))
    method = c.get("method_kind")
    if method == DeliveryMethod.POST:
        blocks.append(("body", "本文书以邮政寄递方式送达，以受送达人签收邮件之日为送达日期。"))
    elif method == DeliveryMethod.ELECTRONIC:
        blocks.append(
            ("body", "本文书以电子方式送达，以送达信息到达受送达人特定系统之日为送达日期。")
        )
    else:
        blocks += [
            ("signature", f"受送达人签收：{SIGN_LINE}"),
            ("signature", f"签收日期：{BLANK_DATE}"),
        ]
    blocks.append(("signature", f"送达人：{SIGN_LINE}"))
    return blocks


def _termination(c: dict) -> list[tuple[str, str]]:
    closed = f"自{date_text(c['closed_at'])}起" if c.get("closed_at") else ""
    return [
        ("body", f"{_applied(c)}，因下列原因，本机关决定终止办理："),
        *_reason(c),
        ("body", f"本申请{closed}终止办理，已提交的申请材料按规定存档。"),
        ("remedy", c.get("remedies", "")),
    ]


BODIES = {
    K.RECEIPT: _receipt,
    K.ACCEPTANCE: _acceptance,
    K.NON_ACCEPTANCE: _non_acceptance,
    K.CORRECTION: _correction,
    K.TOLERANCE: _tolerance,
    K.SPECIAL_PROCEDURE: _special_procedure,
    K.EXTENSION: _extension,
    K.APPROVAL: _approval,
    K.DENIAL: _denial,
    K.SERVICE_RECEIPT: _service_receipt,
    K.TERMINATION: _termination,
}


def _blocks(document: CaseDocument) -> list[tuple[str, str]]:
    c = document.content
    title = c.get("title") or TITLES[document.kind]
    # The commitment is the applicant's, written to the department; a proof of service
    # is a form; every other document is a notice to the applicant.
    if document.kind == K.TOLERANCE:
        addressee = [("to", f"{c.get('department', '')}：")]
    elif document.kind == K.SERVICE_RECEIPT:
        addressee = []
    else:
        addressee = [("to", f"{c.get('applicant', '')}：")]
    # A joint application's papers name its theme, and its project's code if it has one.
    joint = bool(c.get("joint"))
    if not joint:
        code = [("field", f"事项编码：{c.get('item_code', '')}")]
    else:
        code = [("field", f"项目代码：{c['item_code']}")] if c.get("item_code") else []
    return [
        ("title", title),
        ("number", f"文书编号：{c.get('number') or c.get('case_number', '')}"),
        ("field", f"{'申请编号' if joint else '办件编号'}：{c.get('case_number', '')}"),
        ("field", f"申请人：{c.get('applicant', '')}"),
        ("field", f"{_identifier_label(c)}：{c.get('applicant_identifier', '')}"),
        ("field", f"申请事项：{c.get('item', '')}"),
        *code,
        ("field", f"申请日期：{date_text(c.get('submitted_at'))}"),
        ("rule", ""),
        *addressee,
        *BODIES[document.kind](c),
        ("seal", c.get("department", "")),
        ("seal", "（盖章）"),
        ("seal", date_text(c.get("issued_at"))),
        ("verify", "扫描二维码或访问下列网址核验本文书真伪："),
        ("verify", verify_url(document)),
        ("verify", f"核验码：{document.code}"),
    ]


def document_lines(document: CaseDocument) -> list[str]:
    """The document's text in reading order."""
    return [text for style, text in _blocks(document) if text]


# --- layout -----------------------------------------------------------------------------------


def _style(name: str, size: float, **kwargs) -> ParagraphStyle:
    kwargs.setdefault("leading", size * 1.6)
    return ParagraphStyle(name, fontName=FONT, fontSize=size, wordWrap="CJK", **kwargs)


STYLES = {
    "title": _style("title", 22, alignment=TA_CENTER, spaceAfter=6),
    "number": _style("number", 10.5, alignment=TA_RIGHT, spaceAfter=6),
    "field": _style("field", 11, alignment=TA_LEFT),
    "to": _style("to", 12, spaceBefore=6),
    "body": _style("body", 12, firstLineIndent=24),
    "item": _style("item", 12, leftIndent=24),
    "remedy": _style("remedy", 12, firstLineIndent=24, spaceBefore=4),
    "signature": _style("signature", 12, leftIndent=180, spaceBefore=10),
    "seal": _style("seal", 12, alignment=TA_CENTER),
    "verify": _style("verify", 8.5, leading=12),
}
QR_SIZE = 28 * mm


def qr_drawing(document: CaseDocument, size: float = QR_SIZE) -> Drawing:
    """The QR code of the verify page's address."""
    widget = QrCodeWidget(verify_url(document), barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def render(document: CaseDocument) -> bytes:
    """The document as an A4 PDF."""
    blocks = _blocks(document)
    flow, seal, verify = [], [], []
    for style, text in blocks:
        if style == "rule":
            flow += [Spacer(0, 2), HRFlowable(width="100%", thickness=0.5), Spacer(0, 4)]
        elif style == "seal":
            seal.append(Paragraph(escape(text), STYLES[style]))
        elif style == "verify":
            verify.append(Paragraph(escape(text), STYLES[style]))
        else:
            flow.append(Paragraph(escape(text), STYLES[style]))
    width = A4[0] - 50 * mm
    closing = Table(
        [[qr_drawing(document), verify, seal]],
        colWidths=[QR_SIZE + 4 * mm, width - QR_SIZE - 64 * mm, 60 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )
    flow += [Spacer(0, 12 * mm), KeepTogether([closing])]

    buffer = io.BytesIO()
    content = document.content
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=22 * mm,
        bottomMargin=20 * mm,
        title=f"{content.get('title', '')} {content.get('number', '')}",
        author=content.get("department", ""),
        subject=content.get("case_number", ""),
        creator="Yimen",
        invariant=1,
    ).build(flow)
    return buffer.getvalue()
