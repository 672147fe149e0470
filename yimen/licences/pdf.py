"""Draws a licence (电子证照) as an A4 PDF: what it certifies, its SM2 signature and the QR
code of its public verify page.

The wording is Chinese data, not gettext, as on the case documents (`yimen.cases.pdf`): a
licence reads the same whatever language the screen is in. `licence_lines` gives the text
in reading order (what the tests and any plain-text view read); `render` lays the same
blocks out with reportlab's built-in CJK font and stamps a licence that is no longer valid
(or no longer matches its signature) across the page. The PDF is drawn again on every
download and is byte-for-byte reproducible for the same licence and status.
"""

from __future__ import annotations

import datetime as dt
import io
from xml.sax.saxutils import escape

from django.conf import settings
from django.urls import reverse
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
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

from yimen.accounts.choices import ApplicantKind
from yimen.catalog.models import FieldDefinition
from yimen.common.sm2 import fingerprint

from . import services
from .choices import LicenceStatus
from .models import Licence

STATUS_TEXT = {
    LicenceStatus.VALID: "有效",
    LicenceStatus.EXPIRED: "已过期",
    LicenceStatus.REVOKED: "已注销",
    LicenceStatus.REPLACED: "已换发",
}
NOT_GENUINE_STAMP = "验签未通过"
FOR_GOOD = "长期"
FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


# --- the facts, as printed --------------------------------------------------------------------


def verify_url(identifier: str) -> str:
    """The absolute address of the licence's public verify page (what the QR code holds)."""
    path = reverse("licences:verify_identifier", args=[identifier])
    return settings.YIMEN_PUBLIC_URL.rstrip("/") + path


def date_text(value: dt.date | None) -> str:
    """2026年11月23日."""
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def value_text(value) -> str:
    """A data value as printed: lists joined, yes/no in Chinese, ISO dates in Chinese."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}：{value_text(v)}" for k, v in value.items())
    if isinstance(value, str) and len(value) == 10:
        try:
            return date_text(dt.date.fromisoformat(value))
        except ValueError:
            pass
    return str(value)


def _labels(keys) -> dict[str, str]:
    return dict(FieldDefinition.objects.filter(key__in=list(keys)).values_list("key", "label"))


def stamp_text(licence: Licence, *, genuine: bool) -> str:
    """What is stamped across the page: nothing on a genuine, valid licence."""
    if not genuine:
        return NOT_GENUINE_STAMP
    if licence.status == LicenceStatus.VALID:
        return ""
    return STATUS_TEXT[licence.status]


def _status_line(licence: Licence, *, genuine: bool) -> str:
    text = STATUS_TEXT[licence.status]
    if licence.status == LicenceStatus.REPLACED:
        successor = Licence.objects.filter(previous=licence).values_list("identifier", flat=True)
        if successor:
            text += f"（以新证照 {successor[0]} 为准）"
    if licence.status in (LicenceStatus.REVOKED, LicenceStatus.REPLACED) and licence.status_reason:
        text += f"；原因：{licence.status_reason}"
    if not genuine:
        text += "；本证照记录与签名不符，不得作为有效凭证"
    return f"证照状态：{text}"


def _blocks(licence: Licence, *, genuine: bool) -> list[tuple[str, str]]:
    holder = licence.holder
    if holder.kind == ApplicantKind.ENTERPRISE:
        holder_rows = [
            ("field", f"持证单位：{holder.name}"),
            ("field", f"统一社会信用代码：{holder.uscc}"),
        ]
    else:
        holder_rows = [
            ("field", f"持证人：{holder.name}"),
            ("field", f"公民身份号码：{holder.id_number}"),
        ]
    labels = _labels(licence.data)
    data_rows = [
        ("field", f"{labels.get(key, key)}：{value_text(value)}")
        for key, value in licence.data.items()
    ]
    key = licence.signing_key
    return [
        ("title", licence.licence_type.name),
        ("number", f"证照标识：{licence.identifier}"),
        ("rule", ""),
        *holder_rows,
        *data_rows,
        ("rule", ""),
        ("field", f"发证机关：{licence.issuer.name}"),
        ("field", f"发证日期：{date_text(licence.issued_on)}"),
        (
            "field",
            f"有效期至：{date_text(licence.valid_until) if licence.valid_until else FOR_GOOD}",
        ),
        ("status", _status_line(licence, genuine=genuine)),
        ("signature", f"SM2签名：{licence.signature}"),
        ("signature", f"签发公钥指纹（SM3）：{fingerprint(key.public_key)}"),
        ("seal", licence.issuer.name),
        ("seal", date_text(licence.issued_on)),
        ("verify", "扫描二维码或访问下列网址核验本证照："),
        ("link", verify_url(licence.identifier)),
    ]


def licence_lines(licence: Licence) -> list[str]:
    """The licence's text in reading order, the stamp (if any) last."""
    genuine = services.is_genuine(licence)
    lines = [text for _style, text in _blocks(licence, genuine=genuine) if text]
    stamp = stamp_text(licence, genuine=genuine)
    return [*lines, stamp] if stamp else lines


# --- layout -----------------------------------------------------------------------------------


def _style(name: str, size: float, **kwargs) -> ParagraphStyle:
    kwargs.setdefault("leading", size * 1.6)
    return ParagraphStyle(name, fontName=FONT, fontSize=size, wordWrap="CJK", **kwargs)


STYLES = {
    "title": _style("title", 24, alignment=TA_CENTER, spaceAfter=8),
    "number": _style("number", 10, alignment=TA_CENTER, spaceAfter=4),
    "field": _style("field", 12, alignment=TA_LEFT),
    "status": _style("status", 12, spaceBefore=6),
    "signature": _style("signature", 6.5, leading=9, textColor=colors.HexColor("#444444")),
    "seal": _style("seal", 12, alignment=TA_CENTER),
    "verify": _style("verify", 8.5, leading=12),
    "link": _style("link", 8.5, leading=12),
}
QR_SIZE = 30 * mm
STAMP_RED = colors.Color(0.78, 0.07, 0.07)


def qr_drawing(identifier: str, size: float = QR_SIZE) -> Drawing:
    """The QR code of the verify page's address."""
    widget = QrCodeWidget(verify_url(identifier), barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _stamper(text: str):
    """A page callback that stamps `text` diagonally across the page, in translucent red."""

    def stamp(canvas, _doc):
        if not text:
            return
        width, height = A4
        canvas.saveState()
        canvas.setFillColor(STAMP_RED)
        canvas.setStrokeColor(STAMP_RED)
        canvas.setFillAlpha(0.35)
        canvas.setStrokeAlpha(0.5)
        canvas.translate(width / 2, height / 2)
        canvas.rotate(35)
        size = min(110, 420 / len(text))
        canvas.setFont(FONT, size)
        canvas.drawCentredString(0, -size / 3, text)
        canvas.setLineWidth(4)
        half = size * len(text) / 2 + 12 * mm
        canvas.rect(-half, -size * 0.75, 2 * half, size * 1.3, stroke=1, fill=0)
        canvas.restoreState()

    return stamp


def render(licence: Licence) -> bytes:
    """The licence as an A4 PDF."""
    genuine = services.is_genuine(licence)
    flow, seal, verify = [], [], []
    for style, text in _blocks(licence, genuine=genuine):
        if style == "rule":
            flow += [Spacer(0, 2), HRFlowable(width="100%", thickness=0.5), Spacer(0, 4)]
        elif style == "seal":
            seal.append(Paragraph(escape(text), STYLES[style]))
        elif style == "verify":
            verify.append(Paragraph(escape(text), STYLES[style]))
        elif style == "link":  # a clickable address: the PDF carries it as a link annotation
            url = escape(text, {'"': "&quot;"})
            verify.append(Paragraph(f'<link href="{url}">{escape(text)}</link>', STYLES[style]))
        else:
            flow.append(Paragraph(escape(text), STYLES[style]))
    width = A4[0] - 50 * mm
    closing = Table(
        [[qr_drawing(licence.identifier), verify, seal]],
        colWidths=[QR_SIZE + 4 * mm, width - QR_SIZE - 64 * mm, 60 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )
    flow += [Spacer(0, 10 * mm), KeepTogether([closing])]

    stamp = _stamper(stamp_text(licence, genuine=genuine))
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=22 * mm,
        bottomMargin=20 * mm,
        title=f"{licence.licence_type.name} {licence.identifier}",
        author=licence.issuer.name,
        subject=licence.identifier,
        creator="Yimen",
        invariant=1,
    ).build(flow, onFirstPage=stamp, onLaterPages=stamp)
    return buffer.getvalue()
