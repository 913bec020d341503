"""Card printers: a PDF proof of the card face by default, a print spooler for real printers,
and a journal printer that only counts the cards it "prints" (drills and tests)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class PrinterError(RuntimeError):
    """The printer could not print the card.

    `card_fed` says whether the blank may have gone into the printer: then it is recorded as
    spoiled. A job refused before any card moved (no spooler, no disk space for the proof)
    says False, and the blank stays in stock."""

    def __init__(self, message: str, *, card_fed: bool = True):
        super().__init__(message)
        self.card_fed = card_fed


@dataclass(frozen=True)
class CardFace:
    """What is printed on the front of a KTP-el."""

    serial: str
    nik: str
    name: str
    birth_place: str
    birth_date: dt.date
    sex: str
    address: str
    rt_rw: str
    village: str
    kecamatan: str
    province: str
    kabkota: str
    religion: str
    marital_status: str
    occupation: str
    citizenship: str
    issued_on: dt.date
    valid_until: str = "SEUMUR HIDUP"


class Printer(Protocol):
    def print_card(self, face: CardFace) -> str:
        """Print one card face and return a reference to the output (path or job id)."""


def render_card_pdf(face: CardFace) -> bytes:
    """Draw the card face (ID-1 size) as a one-page PDF."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    width, height = 85.6 * mm, 54 * mm
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=(width, height))
    pdf.setTitle(f"Bukti cetak KTP-el {face.serial}")
    pdf.setFont("Helvetica-Bold", 6)
    pdf.drawCentredString(width / 2, height - 5 * mm, f"PROVINSI {face.province.upper()}")
    pdf.drawCentredString(width / 2, height - 8 * mm, face.kabkota.upper())
    pdf.setFont("Helvetica-Bold", 8)
    pdf.drawString(4 * mm, height - 13 * mm, f"NIK : {face.nik}")
    rows = [
        ("Nama", face.name),
        ("Tempat/Tgl Lahir", f"{face.birth_place}, {face.birth_date:%d-%m-%Y}"),
        ("Jenis Kelamin", face.sex),
        ("Alamat", face.address),
        ("RT/RW", face.rt_rw),
        ("Kel/Desa", face.village),
        ("Kecamatan", face.kecamatan),
        ("Agama", face.religion),
        ("Status Perkawinan", face.marital_status),
        ("Pekerjaan", face.occupation),
        ("Kewarganegaraan", face.citizenship),
        ("Berlaku Hingga", face.valid_until),
    ]
    pdf.setFont("Helvetica", 4.6)
    y = height - 17 * mm
    for label, value in rows:
        pdf.drawString(4 * mm, y, label)
        pdf.drawString(20 * mm, y, f": {str(value)[:48].upper()}")
        y -= 2.7 * mm
    pdf.rect(width - 22 * mm, height - 36 * mm, 18 * mm, 22 * mm)
    pdf.drawCentredString(width - 13 * mm, height - 25 * mm, "FOTO")
    pdf.drawCentredString(width - 13 * mm, height - 40 * mm, face.kabkota.upper()[:24])
    pdf.drawCentredString(width - 13 * mm, height - 42.5 * mm, f"{face.issued_on:%d-%m-%Y}")
    pdf.setFont("Helvetica", 3.5)
    pdf.drawString(4 * mm, 2 * mm, f"Blangko {face.serial} · bukti cetak, bukan kartu asli")
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


class PdfProofPrinter:
    """Write a PDF proof of the card face under MEDIA_ROOT/cards/."""

    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory or Path(settings.MEDIA_ROOT) / "cards")

    def print_card(self, face: CardFace) -> str:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"{face.serial}.pdf"
            path.write_bytes(render_card_pdf(face))
        except OSError as exc:
            raise PrinterError(
                f"Bukti cetak tidak dapat ditulis: {exc.strerror}.", card_fed=False
            ) from exc
        return str(path.relative_to(Path(settings.MEDIA_ROOT)))


class SpoolerPrinter:
    """Send the card face as PDF to a CUPS queue with `lp`."""

    def __init__(self, queue: str | None = None, command: str = "lp"):
        self.queue = queue or settings.EKTP_CARD_PRINTER_QUEUE
        self.command = command

    def print_card(self, face: CardFace) -> str:
        if shutil.which(self.command) is None:
            raise PrinterError("Perintah cetak (lp) tidak tersedia di server ini.", card_fed=False)
        args = [self.command, "-t", f"KTP-el {face.serial}"]
        if self.queue:
            args += ["-d", self.queue]
        try:
            done = subprocess.run(
                args, input=render_card_pdf(face), capture_output=True, timeout=60, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PrinterError(f"Printer tidak menjawab: {exc}.") from exc
        if done.returncode != 0:
            # lp refused the job: it never reached the printer.
            message = done.stderr.decode(errors="replace").strip()[:200]
            raise PrinterError(f"Printer menolak pekerjaan cetak: {message}", card_fed=False)
        return done.stdout.decode(errors="replace").strip()[:250]


class JournalPrinter:
    """Print nothing, but journal every card: one JSON line (serial, NIK, time, process)
    appended and fsynced before the card counts as out of the printer.

    For drills and crash tests: the journal counts the cards that physically exist, to
    hold against the ledger. EKTP_CARD_PRINTER_DELAY makes each card take that many
    seconds, half before the line is written (feeding the blank) and half after
    (laminating and ejecting), so that a server killed mid-print can leave either a blank
    that never printed or a card that did."""

    def __init__(self, journal: Path | None = None, delay: float | None = None):
        self.journal = Path(journal or settings.EKTP_CARD_PRINTER_JOURNAL)
        self.delay = settings.EKTP_CARD_PRINTER_DELAY if delay is None else delay

    def print_card(self, face: CardFace) -> str:
        time.sleep(max(self.delay, 0) / 2)
        line = json.dumps(
            {
                "serial": face.serial,
                "nik": face.nik,
                "at": dt.datetime.now(dt.UTC).isoformat(),
                "pid": os.getpid(),
            }
        )
        try:
            self.journal.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise PrinterError(
                f"Jurnal printer tidak dapat ditulis: {exc.strerror}.", card_fed=False
            ) from exc
        time.sleep(max(self.delay, 0) / 2)
        return f"{self.journal.name}#{face.serial}"


def default_printer() -> Printer:
    """Return the printer backend chosen by settings.EKTP_CARD_PRINTER (dotted path)."""
    path = settings.EKTP_CARD_PRINTER
    return import_string(path)()
