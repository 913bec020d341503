"""The suket as an A4 PDF in Bahasa Indonesia with a signed QR code and the office's signature,
and the download that serves it to staff and to the public."""

from __future__ import annotations

from io import BytesIO

import qrcode
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfgen import canvas

from ektp.core.formats import tanggal
from ektp.core.models import AuditEvent
from ektp.core.services import record_audit
from ektp.naskah.selectors import letterhead_of
from ektp.suket import signing
from ektp.suket.models import Suket

SEX = {"L": "Laki-laki", "P": "Perempuan"}


def qr_text(verify_url: str, payload: str) -> str:
    """Return what the QR holds: the verification link, a newline, and the signed payload."""
    return f"{verify_url}\n{payload}"


def _qr_image(text: str) -> ImageReader:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(text)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white")
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    return ImageReader(buffer)


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Cut a text into lines that fit a width on the page (never past the right margin)."""
    return simpleSplit(text, font, size, width) or [""]


def _signature(pdf: canvas.Canvas, suket: Suket, *, x: float, y: float, width: float) -> float:
    """Draw who signs for the office: title, e-signature note, name, rank and NIP; return y."""
    head = letterhead_of(suket.office)
    lines = [(f"{head.city}, {tanggal(suket.issued_on)}", "Helvetica")]
    lines += [(line, "Helvetica") for line in _wrap(head.head_title, "Helvetica", 10.5, width)]
    lines.append(("Ditandatangani secara elektronik", "Helvetica-Oblique"))
    lines.append((head.head_name or "." * 40, "Helvetica-Bold"))
    if head.head_rank:
        lines.append((head.head_rank, "Helvetica"))
    lines.append((f"NIP {head.head_nip or '.' * 30}", "Helvetica"))
    for line, font in lines:
        pdf.setFont(font, 10.5)
        for part in _wrap(line, font, 10.5, width):
            pdf.drawString(x, y, part)
            y -= 5 * mm
    pdf.setFont("Helvetica", 10.5)
    return y


def render_pdf(suket: Suket, *, verify_url: str) -> bytes:
    """Draw the suket on one A4 page (unsigned); every line wraps inside the margins."""
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"Surat Keterangan {suket.number}")
    pdf.setAuthor(suket.office.name)
    pdf.setSubject("Surat keterangan telah melakukan perekaman KTP-el")
    width, height = A4
    left, y = 25 * mm, height - 25 * mm
    text_width = width - 2 * left
    head = letterhead_of(suket.office)

    pdf.setFont("Helvetica-Bold", 13)
    pdf.drawCentredString(width / 2, y, head.government.upper())
    y -= 6 * mm
    pdf.drawCentredString(width / 2, y, head.agency.upper())
    if suket.office.address:
        pdf.setFont("Helvetica", 9)
        for line in _wrap(suket.office.address, "Helvetica", 9, text_width):
            y -= 4.5 * mm
            pdf.drawCentredString(width / 2, y, line)
    y -= 4 * mm
    pdf.line(left, y, width - left, y)

    y -= 12 * mm
    pdf.setFont("Helvetica-Bold", 12)
    pdf.drawCentredString(width / 2, y, "SURAT KETERANGAN")
    y -= 5 * mm
    pdf.setFont("Helvetica", 10)
    pdf.drawCentredString(width / 2, y, f"Nomor: {suket.number}")

    y -= 12 * mm
    pdf.setFont("Helvetica", 10.5)
    pdf.drawString(left, y, "Yang bertanda tangan di bawah ini menerangkan bahwa:")
    rows = [
        ("NIK", suket.nik),
        ("Nama", suket.name),
        ("Tempat/tanggal lahir", f"{suket.birth_place}, {tanggal(suket.birth_date)}"),
        ("Jenis kelamin", SEX.get(suket.sex, suket.sex)),
        ("Alamat", suket.address),
        ("Tanggal perekaman", tanggal(suket.recorded_on)),
    ]
    value_x = left + 50 * mm
    value_width = width - left - value_x - 3 * mm
    y -= 4 * mm
    for label, value in rows:
        y -= 6.5 * mm
        pdf.drawString(left + 5 * mm, y, label)
        pdf.drawString(value_x, y, ":")
        for index, line in enumerate(_wrap(str(value), "Helvetica", 10.5, value_width)):
            if index:
                y -= 5 * mm
            pdf.drawString(value_x + 3 * mm, y, line)

    y -= 12 * mm
    lines = [
        "telah melakukan perekaman data KTP-el dan datanya tercatat dalam database kependudukan.",
        f"Suket ini diterbitkan karena: {suket.get_reason_display().lower()}"
        + (f" ({suket.reason_note})" if suket.reason_note else "")
        + ".",
    ]
    if suket.purpose:
        lines.append(f"Keperluan: {suket.purpose}.")
    lines += [
        f"Surat keterangan ini berlaku sampai dengan {tanggal(suket.valid_until)} dan tidak "
        "berlaku lagi setelah KTP-el yang bersangkutan dicetak.",
        f"Dasar kebijakan: {suket.rule_source}",
    ]
    for paragraph in lines:
        for line in _wrap(paragraph, "Helvetica", 10.5, text_width):
            pdf.drawString(left, y, line)
            y -= 6 * mm

    y -= 6 * mm
    qr_size = 42 * mm
    pdf.drawImage(
        _qr_image(qr_text(verify_url, suket.qr_payload)),
        left,
        y - qr_size + 5 * mm,
        width=qr_size,
        height=qr_size,
    )
    sign_x = width - left - 75 * mm
    _signature(pdf, suket, x=sign_x, y=y, width=75 * mm)
    pdf.setFont("Helvetica", 8)
    foot = 22 * mm
    pdf.drawString(left, foot, f"Periksa keaslian suket ini di {verify_url}")
    pdf.drawString(
        left, foot - 4 * mm, "atau pindai kode QR. Dokumen ini ditandatangani secara elektronik;"
    )
    pdf.drawString(left, foot - 8 * mm, "setiap perubahan membatalkan tanda tangannya.")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def signed_pdf(suket: Suket, *, verify_url: str) -> bytes:
    """Render the suket and sign it with the office's PAdES signature."""
    keys = signing.office_keys()
    return signing.sign_pdf(
        render_pdf(suket, verify_url=verify_url),
        keys,
        reason=f"Surat keterangan {suket.number}",
        location=suket.office.region.name,
    )


def verify_url(request: HttpRequest, number: str) -> str:
    """Return the absolute public verification link of a suket number."""
    base = settings.EKTP_PUBLIC_URL or request.build_absolute_uri("/")[:-1]
    return base.rstrip("/") + reverse("verify:verify", args=[number])


def pdf_response(request: HttpRequest, suket: Suket) -> HttpResponse:
    """Answer with the signed PDF as a download."""
    body = signed_pdf(suket, verify_url=verify_url(request, suket.number))
    response = HttpResponse(body, content_type="application/pdf")
    filename = "suket-" + suket.number.replace("/", "-").replace(".", "") + ".pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def public_pdf_response(request: HttpRequest, suket: Suket, *, by: str) -> HttpResponse:
    """Audit a download by a member of the public (`by` names what opened it: the QR or a
    one-time code), then answer with the signed PDF."""
    record_audit(
        user=None,
        action=AuditEvent.Action.VIEW,
        object_type="suket",
        object_id=suket.pk,
        request=request,
        channel="public",
        detail={"pdf": True, "by": by},
    )
    return pdf_response(request, suket)
