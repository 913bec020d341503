"""The office's documents as naskah dinas PDFs: the blank request letter, the hand-over
receipt of a KTP-el, and the rekap harian."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import override

from ektp.cards.models import BlankRequest, CardPrint
from ektp.cards.services import RECEIVER_RELATIONS
from ektp.core.formats import DAYS, hari, tanggal
from ektp.naskah import layout
from ektp.naskah.daily import FIGURES, GROUPS, DailyReport
from ektp.naskah.layout import Page, text
from ektp.naskah.models import Letter
from ektp.naskah.selectors import letterhead_of
from ektp.suket.services import address_of

ADDRESSEE = [
    "Direktur Jenderal Kependudukan dan Pencatatan Sipil",
    "Kementerian Dalam Negeri",
    "di",
    "Jakarta",
]
REQUEST_PERIHAL = "Permohonan Blangko KTP-el"
RECEIPT_PERIHAL = "Tanda Terima KTP-el"
RECEIPT_TITLE = "TANDA TERIMA KTP-el"


def angka(value: float | int | None, decimals: int = 0) -> str:
    """A figure the Indonesian way: 19.825; 149,4."""
    if value is None:
        return "-"
    with override("id"):
        return number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def _cover_text(figures: dict) -> str:
    days = figures.get("days_of_cover")
    if days is None:
        return "tidak dapat dihitung (belum ada pemakaian blangko)"
    return f"{angka(days, 1)} hari"


def request_letter_pdf(blank_request: BlankRequest, letter: Letter | None, *, sign: bool) -> bytes:
    """The permohonan blangko KTP-el with the figures the forecast gave when it was drafted."""
    office = blank_request.office
    head = letterhead_of(office)
    figures = blank_request.figures or {}
    on = timezone.localdate(blank_request.submitted_at or blank_request.created_at)
    page = Page(
        title=f"{REQUEST_PERIHAL} {letter.number if letter else '(draf)'}",
        author=office.name,
        subject=REQUEST_PERIHAL,
    )
    days = figures.get("days_of_cover")
    urgent = days is not None and days < figures.get("lead_time_days", 0)
    page.story += layout.kop(head, page.width)
    page.story += layout.letter_heading(
        letterhead=head,
        on=on,
        number=letter.number if letter else "(draf — diberi nomor saat diajukan)",
        sifat="Segera" if urgent else "Biasa",
        lampiran="-",
        perihal=REQUEST_PERIHAL,
        addressee=ADDRESSEE,
        width=page.width,
    )
    computed = figures.get("computed_on")
    as_of = tanggal(dt.date.fromisoformat(computed)) if computed else tanggal(on)
    page.story += [
        text("Dengan hormat,", layout.BODY),
        text(
            f"Berdasarkan catatan stok dan pemakaian blangko KTP-el pada {office.name} per "
            f"{as_of}, dengan ini kami mengajukan permohonan blangko KTP-el sebanyak "
            f"{angka(blank_request.quantity)} keping, agar stok mencukupi "
            f"{blank_request.target_cover_days} hari setelah pengiriman tiba, dengan rincian "
            "sebagai berikut:",
            layout.BODY,
        ),
        layout.facts(
            [
                ("Stok blangko tersedia", f"{angka(figures.get('on_hand'))} keping"),
                ("Pemakaian rata-rata", f"{angka(figures.get('consumption_rate'), 1)} per hari"),
                ("Perekaman rata-rata", f"{angka(figures.get('recording_rate'), 1)} per hari"),
                ("Antrean siap cetak (PRR)", f"{angka(figures.get('backlog'))} orang"),
                ("Ketahanan stok", _cover_text(figures)),
                ("Waktu tunggu pengiriman", f"{angka(figures.get('lead_time_days'))} hari"),
                (
                    "Permohonan belum diterima",
                    f"{angka(figures.get('outstanding_requested', 0))} keping",
                ),
                ("Jumlah yang dimohon", f"{angka(blank_request.quantity)} keping"),
            ],
            width=page.width,
        ),
        layout.Spacer(1, 4),
        text(
            "Demikian permohonan ini kami sampaikan. Atas perhatian dan kerja sama Bapak/Ibu, "
            "kami ucapkan terima kasih.",
            layout.BODY,
        ),
        layout.signature_block(head, on=on, signed=sign, width=page.width),
    ]
    pdf = page.render()
    if not sign:
        return pdf
    return layout.sign(pdf, reason=page.title, location=head.city)


def _who(user) -> str:
    return (user.get_full_name() or user.username) if user else "-"


def handover_receipt_pdf(card: CardPrint, letter: Letter, *, sign: bool) -> bytes:
    """The tanda terima KTP-el of one hand-over: who received which card, from whom, when."""
    office = card.service_point.office
    head = letterhead_of(office)
    on = timezone.localdate(card.handed_over_at)
    resident = card.resident
    page = Page(title=f"{RECEIPT_PERIHAL} {letter.number}", author=office.name)
    page.story += layout.kop(head, page.width)
    page.story += layout.titled_heading(title=RECEIPT_TITLE, number=letter.number)
    page.story += [
        text(
            f"Pada hari ini {DAYS[on.weekday()]}, tanggal {tanggal(on)}, pukul "
            f"{timezone.localtime(card.handed_over_at):%H.%M} WIB, di {card.service_point.name} "
            "telah diserahkan KTP-el dengan data sebagai berikut:",
            layout.BODY,
        ),
        layout.facts(
            [
                ("NIK", resident.nik),
                ("Nama", resident.name),
                ("Alamat", address_of(resident)),
                ("Nomor seri blangko", card.blank.serial),
                ("Alasan cetak", card.get_reason_display()),
                ("Tanggal cetak", tanggal(card.printed_at)),
                (
                    "Diterima oleh",
                    f"{card.received_by_name} "
                    f"({RECEIVER_RELATIONS.get(card.received_relation, card.received_relation)})",
                ),
            ],
            width=page.width,
        ),
        layout.Spacer(1, 8),
        text(
            "Penerima telah memeriksa kebenaran data pada KTP-el dan menerimanya dalam "
            "keadaan baik.",
            layout.BODY,
        ),
    ]
    sides = layout.Table(
        [
            [text("Yang menerima,"), text("Yang menyerahkan,")],
            [layout.Spacer(1, 18 * layout.mm), ""],
            [text(card.received_by_name), text(_who(card.handed_over_by))],
            ["", text(f"Petugas {card.service_point.name}", layout.SMALL)],
        ],
        colWidths=[page.width / 2, page.width / 2],
    )
    page.story += [
        sides,
        layout.signature_block(head, on=on, signed=sign, width=page.width, lead="Mengetahui,"),
    ]
    pdf = page.render()
    if not sign:
        return pdf
    return layout.sign(pdf, reason=page.title, location=head.city)


def daily_report_pdf(report: DailyReport, *, printed_by) -> bytes:
    """The rekap harian on landscape A4: one row per place, the totals, the suket issued."""
    office = report.office
    head = letterhead_of(office)
    page = Page(
        title=f"Rekap harian {report.day.isoformat()} {office.name}",
        author=office.name,
        wide=True,
    )
    page.story += layout.kop(head, page.width)
    page.story += layout.titled_heading(
        title="LAPORAN REKAPITULASI HARIAN LAYANAN KTP-el", number=None
    )
    page.story.append(text(f"Tanggal: {hari(report.day)}"))
    page.story.append(layout.Spacer(1, 8))
    groups = ["Titik layanan"]
    titles = [""]
    spans = [("SPAN", (0, 0), (0, 1))]
    for group, columns in GROUPS:
        spans.append(("SPAN", (len(groups), 0), (len(groups) + len(columns) - 1, 0)))
        groups += [group] + [""] * (len(columns) - 1)
        titles += list(columns.values())
    rows = [[row.place, *(angka(getattr(row, n)) for n in FIGURES)] for row in report.rows]
    total = [
        text(value, layout.CELL_BOLD)
        for value in [report.total.place, *(angka(getattr(report.total, n)) for n in FIGURES)]
    ]
    first = 44 * layout.mm
    rest = (page.width - first) / len(FIGURES)
    table = layout.grid(
        [groups, titles, *rows, total], widths=[first] + [rest] * len(FIGURES), header_rows=2
    )
    table.setStyle(layout.TableStyle(spans))
    page.story += [
        table,
        layout.Spacer(1, 8),
        text(f"Suket diterbitkan: {angka(report.suket)}"),
        text(
            f"Dicetak oleh {_who(printed_by)} pada {tanggal(timezone.now())} "
            f"{timezone.localtime():%H.%M} WIB.",
            layout.SMALL,
        ),
        layout.signature_block(head, on=report.day, signed=False, width=page.width, dated=True),
    ]
    return page.render()
