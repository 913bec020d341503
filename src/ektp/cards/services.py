"""Writes for cards: the blank ledger, printing, misprints, hand-over, requests."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from ektp.cards import jobs, rationing, selectors
from ektp.cards.errors import (
    BlankUnavailable,
    CardHeld,
    CardsError,
    NoBlankInStock,
    NotPrintable,
    PrintDeferred,
    PrinterUnavailable,
    PrintInProgress,
    PrintSettled,
    StockInvalid,
)
from ektp.cards.models import (
    Blank,
    BlankRequest,
    CardPolicy,
    CardPrint,
    LedgerEntry,
    LedgerLine,
    PrintReason,
    PrintReservation,
    ReprintRequest,
)
from ektp.cards.printers import CardFace, Printer, PrinterError
from ektp.core.access import within_jurisdiction
from ektp.core.models import AuditEvent, Role, User
from ektp.core.services import record_audit
from ektp.enrollment.services import EnrollmentError, card_may_be_printed, transition
from ektp.offices.models import Device, Office, ServicePoint
from ektp.residents.models import KtpStatus, Resident

SERIAL_RE = re.compile(r"^[0-9]{6,20}$")
MAX_RECEIPT = 100_000
RECEIVER_RELATIONS = {
    "diri_sendiri": "Yang bersangkutan",
    "suami_istri": "Suami/istri",
    "orang_tua": "Orang tua",
    "anak": "Anak",
    "saudara": "Saudara",
    "kuasa": "Penerima kuasa",
}
HOLDERS_OF_A_CARD = {KtpStatus.CARD_PRINTED, KtpStatus.CARD_ISSUED}


__all__ = [
    "BlankUnavailable",
    "CardHeld",
    "CardsError",
    "NoBlankInStock",
    "NotPrintable",
    "PrintDeferred",
    "PrintInProgress",
    "PrintSettled",
    "PrinterUnavailable",
    "StockInvalid",
]


def node_name() -> str:
    """Return the name of the node (office server or edge laptop) writing ledger rows."""
    return settings.EKTP_NODE_ID


def policy_for(office: Office) -> CardPolicy:
    """Return the office's card policy, creating the default one."""
    policy, _ = CardPolicy.objects.get_or_create(office=office)
    return policy


def _check_office(actor: User, office: Office) -> None:
    if not within_jurisdiction(actor, office.region_id):
        raise CardsError(f"{office.name} di luar wilayah kerja Anda.")


def _check_point(office: Office, point: ServicePoint | None) -> None:
    if point is not None and point.office_id != office.pk:
        raise StockInvalid(f"Titik layanan {point.name} bukan milik {office.name}.")


def _place(point: ServicePoint | None) -> str:
    return point.name if point is not None else "gudang kantor"


def _entry(*, kind: str, office: Office, actor: User, blanks: list[Blank], **fields) -> LedgerEntry:
    serials = sorted(b.serial for b in blanks)
    entry = LedgerEntry.objects.create(
        kind=kind,
        office=office,
        actor=actor,
        at=fields.pop("at", None) or timezone.now(),
        node=node_name(),
        quantity=len(blanks) if "quantity" not in fields else fields.pop("quantity"),
        serial_first=serials[0] if serials else "",
        serial_last=serials[-1] if serials else "",
        **fields,
    )
    LedgerLine.objects.bulk_create(
        [LedgerLine(entry=entry, blank=b) for b in blanks], batch_size=2000
    )
    if kind not in (LedgerEntry.Kind.CONSUMPTION, LedgerEntry.Kind.COUNT):
        transaction.on_commit(lambda: rationing.forget(office))
    return entry


def _mark_resident(
    resident: Resident,
    status: str,
    actor: User,
    reason: str,
    service_point: ServicePoint | None = None,
) -> None:
    """Move the resident's KTP-el status through the status machine, which keeps the history."""
    try:
        transition(
            resident=resident,
            to=status,
            actor=actor,
            reason=reason,
            service_point=service_point,
            node_id=node_name(),
        )
    except EnrollmentError as exc:
        raise NotPrintable(str(exc)) from exc


def parse_serial_range(first: str, last: str) -> list[str]:
    """Expand a serial range; both ends digits of the same length, first ≤ last."""
    first, last = (first or "").strip(), (last or "").strip()
    if not SERIAL_RE.match(first) or not SERIAL_RE.match(last):
        raise StockInvalid("Nomor seri harus berupa 6–20 angka.")
    if len(first) != len(last):
        raise StockInvalid("Nomor seri awal dan akhir harus sama panjang.")
    start, end = int(first), int(last)
    if end < start:
        raise StockInvalid("Nomor seri akhir lebih kecil dari nomor seri awal.")
    if end - start + 1 > MAX_RECEIPT:
        raise StockInvalid(
            f"Satu penerimaan paling banyak {MAX_RECEIPT:,} blangko.".replace(",", ".")
        )
    return [str(n).zfill(len(first)) for n in range(start, end + 1)]


def receive_blanks(
    *,
    office: Office,
    serial_first: str,
    serial_last: str,
    source: str,
    reference: str,
    actor: User,
    request: BlankRequest | None = None,
    at: dt.datetime | None = None,
) -> LedgerEntry:
    """Record a delivery of a serial range to the office store, matched to a request if given."""
    _check_office(actor, office)
    serials = parse_serial_range(serial_first, serial_last)
    if source not in LedgerEntry.Source.values:
        raise StockInvalid("Sumber blangko harus Kemendagri atau provinsi.")
    reference = (reference or "").strip()
    if not reference or len(reference) > 100:
        raise StockInvalid("Nomor referensi pengiriman wajib diisi (paling banyak 100 karakter).")
    with transaction.atomic():
        if request is not None:
            request = BlankRequest.objects.select_for_update().get(pk=request.pk)
            if request.office_id != office.pk:
                raise StockInvalid("Permohonan blangko itu milik kantor lain.")
            if request.status not in (
                BlankRequest.Status.SUBMITTED,
                BlankRequest.Status.PARTIALLY_DELIVERED,
            ):
                raise StockInvalid(
                    f"Permohonan berstatus {request.get_status_display()}; "
                    "hanya permohonan yang diajukan dapat dicocokkan."
                )
        clash = (
            Blank.objects.filter(
                serial__length=len(serials[0]), serial__gte=serials[0], serial__lte=serials[-1]
            )
            .order_by("serial")
            .first()
        )
        if clash is not None:
            raise StockInvalid(
                f"Rentang nomor seri tumpang tindih dengan blangko yang sudah tercatat ({clash.serial})."
            )
        try:
            with transaction.atomic():
                blanks = Blank.objects.bulk_create(
                    [Blank(serial=s, office=office) for s in serials], batch_size=2000
                )
        except IntegrityError as exc:
            raise StockInvalid("Sebagian nomor seri sudah tercatat; penerimaan ditolak.") from exc
        entry = _entry(
            kind=LedgerEntry.Kind.RECEIPT,
            office=office,
            actor=actor,
            blanks=blanks,
            source=source,
            reference=reference,
            request=request,
            at=at,
        )
        if request is not None:
            request.delivered_quantity += len(blanks)
            request.status = (
                BlankRequest.Status.DELIVERED
                if request.delivered_quantity >= request.quantity
                else BlankRequest.Status.PARTIALLY_DELIVERED
            )
            request.save(update_fields=["delivered_quantity", "status"])
        record_audit(
            user=actor,
            action=AuditEvent.Action.CREATE,
            object_type="blank_receipt",
            object_id=entry.pk,
            detail={"quantity": len(blanks), "reference": reference},
        )
    return entry


def _lock_at(
    office: Office, point: ServicePoint | None, *, quantity: int | None, serials: list[str] | None
) -> list[Blank]:
    qs = Blank.objects.select_for_update().filter(
        office=office, service_point=point, state=Blank.State.IN_STOCK
    )
    if serials:
        clean = sorted({s.strip() for s in serials if s.strip()})
        if any(not SERIAL_RE.match(s) for s in clean):
            raise StockInvalid("Nomor seri harus berupa 6–20 angka.")
        found = list(qs.filter(serial__in=clean).order_by("serial"))
        missing = sorted(set(clean) - {b.serial for b in found})
        if missing:
            raise BlankUnavailable(
                f"Blangko {', '.join(missing[:5])} tidak tersedia di {_place(point)}."
            )
        return found
    if quantity is None or quantity < 1:
        raise StockInvalid("Jumlah blangko harus minimal 1.")
    found = list(qs.order_by("serial")[:quantity])
    if len(found) < quantity:
        raise StockInvalid(
            f"Stok di {_place(point)} hanya {len(found)} blangko; tidak cukup untuk {quantity}."
        )
    return found


def transfer_blanks(
    *,
    office: Office,
    from_point: ServicePoint | None,
    to_point: ServicePoint | None,
    actor: User,
    quantity: int | None = None,
    serials: list[str] | None = None,
    reason: str = "",
) -> LedgerEntry:
    """Move blanks between the office store and its service points, lowest serials first."""
    _check_office(actor, office)
    _check_point(office, from_point)
    _check_point(office, to_point)
    if (from_point.pk if from_point else None) == (to_point.pk if to_point else None):
        raise StockInvalid("Asal dan tujuan pemindahan sama.")
    if to_point is not None and not to_point.is_active:
        raise StockInvalid(f"Titik layanan {to_point.name} tidak aktif.")
    with transaction.atomic():
        blanks = _lock_at(office, from_point, quantity=quantity, serials=serials)
        Blank.objects.filter(pk__in=[b.pk for b in blanks]).update(
            service_point=to_point, updated_at=timezone.now()
        )
        return _entry(
            kind=LedgerEntry.Kind.TRANSFER,
            office=office,
            actor=actor,
            blanks=blanks,
            from_point=from_point,
            to_point=to_point,
            reason=(reason or "")[:250],
        )


def spoil_blank(
    *,
    office: Office,
    serial: str,
    cause: str,
    reason: str,
    actor: User,
    device: Device | None = None,
) -> LedgerEntry:
    """Void a blank in stock as damaged or misprinted; it stays on record."""
    _check_office(actor, office)
    if cause not in LedgerEntry.SpoilCause.values:
        raise StockInvalid("Penyebab harus salah cetak atau rusak fisik.")
    reason = (reason or "").strip()
    if not reason:
        raise StockInvalid("Alasan blangko rusak wajib diisi.")
    with transaction.atomic():
        blank = (
            Blank.objects.select_for_update()
            .filter(office=office, serial=(serial or "").strip())
            .first()
        )
        if blank is None or blank.state != Blank.State.IN_STOCK:
            raise BlankUnavailable(f"Blangko {serial} tidak ada dalam stok {office.name}.")
        return _spoil(blank=blank, cause=cause, reason=reason, actor=actor, device=device)


def _spoil(*, blank: Blank, cause: str, reason: str, actor: User, device: Device | None):
    point = blank.service_point
    blank.state = Blank.State.SPOILED
    blank.save(update_fields=["state", "updated_at"])
    return _entry(
        kind=LedgerEntry.Kind.SPOILAGE,
        office=blank.office,
        actor=actor,
        blanks=[blank],
        from_point=point,
        spoil_cause=cause,
        reason=reason[:250],
        device=device,
    )


def return_old_card(
    *, office: Office, serial: str, resident: Resident, actor: User, reason: str = ""
) -> LedgerEntry:
    """Void a returned old card and keep it on record."""
    _check_office(actor, office)
    serial = (serial or "").strip()
    if not SERIAL_RE.match(serial):
        raise StockInvalid("Nomor seri kartu lama harus berupa 6–20 angka.")
    with transaction.atomic():
        blank = Blank.objects.select_for_update().filter(serial=serial).first()
        if blank is None:
            blank = Blank.objects.create(
                serial=serial, office=office, state=Blank.State.VOIDED_RETURN
            )
        elif blank.state != Blank.State.USED:
            raise StockInvalid(
                f"Nomor seri {serial} tercatat {blank.get_state_display().lower()}, "
                "bukan kartu yang pernah dicetak."
            )
        else:
            printed_for = CardPrint.objects.filter(blank=blank).values_list(
                "resident_id", flat=True
            )
            if printed_for and printed_for[0] != resident.pk:
                raise StockInvalid(f"Kartu {serial} bukan milik {resident.name}.")
            blank.state = Blank.State.VOIDED_RETURN
            blank.service_point = None
            blank.office = office
            blank.save(update_fields=["state", "service_point", "office", "updated_at"])
        return _entry(
            kind=LedgerEntry.Kind.RETURN_VOID,
            office=office,
            actor=actor,
            blanks=[blank],
            reason=(reason or f"Kartu lama {resident.nik} dikembalikan")[:250],
        )


def lend_blanks(
    *, from_office: Office, to_office: Office, quantity: int, reference: str, actor: User
) -> LedgerEntry:
    """Send blanks from one district's store to another through the province."""
    if actor.role not in (Role.PROVINCE_ADMIN, Role.SYSTEM_ADMIN):
        raise CardsError("Hanya admin provinsi yang dapat meminjamkan blangko antar kab/kota.")
    _check_office(actor, from_office)
    _check_office(actor, to_office)
    if from_office.pk == to_office.pk:
        raise StockInvalid("Kantor asal dan tujuan pinjaman sama.")
    reference = (reference or "").strip()[:100]
    if not reference:
        raise StockInvalid("Nomor surat pinjaman wajib diisi.")
    with transaction.atomic():
        blanks = _lock_at(from_office, None, quantity=quantity, serials=None)
        Blank.objects.filter(pk__in=[b.pk for b in blanks]).update(
            state=Blank.State.LENT_OUT, updated_at=timezone.now()
        )
        return _entry(
            kind=LedgerEntry.Kind.LOAN_OUT,
            office=from_office,
            actor=actor,
            blanks=blanks,
            counterpart_office=to_office,
            reference=reference,
        )


def receive_loan(*, loan_out: LedgerEntry, actor: User) -> LedgerEntry:
    """Take lent blanks into the borrowing office's store."""
    with transaction.atomic():
        loan_out = LedgerEntry.objects.select_for_update().get(pk=loan_out.pk)
        if loan_out.kind != LedgerEntry.Kind.LOAN_OUT:
            raise StockInvalid("Mutasi itu bukan pengiriman pinjaman.")
        to_office = loan_out.counterpart_office
        _check_office(actor, to_office)
        if LedgerEntry.objects.filter(loan_out=loan_out).exists():
            raise StockInvalid("Pinjaman ini sudah diterima.")
        blanks = list(
            Blank.objects.select_for_update().filter(
                lines__entry=loan_out, state=Blank.State.LENT_OUT
            )
        )
        Blank.objects.filter(pk__in=[b.pk for b in blanks]).update(
            office=to_office, state=Blank.State.IN_STOCK, updated_at=timezone.now()
        )
        return _entry(
            kind=LedgerEntry.Kind.LOAN_IN,
            office=to_office,
            actor=actor,
            blanks=blanks,
            counterpart_office=loan_out.office,
            reference=loan_out.reference,
            loan_out=loan_out,
        )


def record_stock_count(
    *,
    office: Office,
    service_point: ServicePoint | None,
    counted: int,
    actor: User,
    note: str = "",
) -> LedgerEntry:
    """Record a physical count against the ledger's figure; a difference is flagged, not booked."""
    _check_office(actor, office)
    _check_point(office, service_point)
    if not isinstance(counted, int) or counted < 0 or counted > 10_000_000:
        raise StockInvalid("Jumlah hitungan harus bilangan bulat 0 atau lebih.")
    with transaction.atomic():
        expected = Blank.objects.filter(
            office=office, service_point=service_point, state=Blank.State.IN_STOCK
        ).count()
        return _entry(
            kind=LedgerEntry.Kind.COUNT,
            office=office,
            actor=actor,
            blanks=[],
            quantity=0,
            from_point=service_point,
            counted=counted,
            expected=expected,
            reason=(note or "")[:250],
        )


def create_reprint_request(
    *,
    resident: Resident,
    reason: str,
    actor: User,
    service_point: ServicePoint | None = None,
    old_card_usable: bool = False,
) -> ReprintRequest:
    """Put a resident in the print queue for a replacement card."""
    if reason not in PrintReason.values or reason == PrintReason.NEW:
        raise NotPrintable(
            "Alasan cetak ulang harus rusak, hilang, perubahan data, pindah atau tukar suket."
        )
    if not within_jurisdiction(actor, resident.kabkota_code):
        raise NotPrintable("Penduduk di luar wilayah kerja Anda.")
    allowed = HOLDERS_OF_A_CARD | {KtpStatus.PRINT_READY_RECORD}
    if resident.ktp_status not in allowed:
        raise NotPrintable(
            f"Status KTP-el {resident.get_ktp_status_display()}: penduduk belum siap cetak."
        )
    office = Office.objects.filter(region_id=resident.kabkota_code).first()
    if office is None:
        raise NotPrintable("Belum ada kantor Disdukcapil untuk kab/kota penduduk ini.")
    _check_point(office, service_point)
    try:
        with transaction.atomic():
            return ReprintRequest.objects.create(
                resident=resident,
                office=office,
                service_point=service_point,
                reason=reason,
                old_card_usable=bool(old_card_usable) and reason == PrintReason.DAMAGED,
                created_by=actor,
            )
    except IntegrityError as exc:
        raise NotPrintable(f"{resident.name} sudah punya permohonan cetak yang terbuka.") from exc


def working_printer(point: ServicePoint) -> Device:
    """Return an active card printer at the point, or say why printing is blocked there."""
    printers = list(point.devices.filter(kind=Device.Kind.CARD_PRINTER).order_by("serial_number"))
    for device in printers:
        if device.status == Device.Status.ACTIVE:
            return device
    if not printers:
        raise PrinterUnavailable(f"Tidak ada printer kartu di {point.name}.")
    device = printers[0]
    why = f": {device.status_reason}" if device.status_reason else ""
    raise PrinterUnavailable(
        f"Printer kartu {device.serial_number} di {point.name} "
        f"{device.get_status_display().lower()}{why}. Pencetakan di titik ini dihentikan."
    )


def card_face(resident: Resident, serial: str, issued_on: dt.date) -> CardFace:
    """Build the card face of a resident."""
    from ektp.regions.models import Region

    names = dict(
        Region.objects.filter(
            code__in=[
                resident.address_region_id,
                resident.kecamatan_code,
                resident.kabkota_code,
                resident.province_code,
            ]
        ).values_list("code", "name")
    )
    return CardFace(
        serial=serial,
        nik=resident.nik,
        name=resident.name,
        birth_place=resident.birth_place,
        birth_date=resident.birth_date,
        sex=resident.get_sex_display(),
        address=resident.street or "-",
        rt_rw=f"{resident.rt.zfill(3)}/{resident.rw.zfill(3)}",
        village=names.get(resident.address_region_id, ""),
        kecamatan=names.get(resident.kecamatan_code, ""),
        kabkota=names.get(resident.kabkota_code, ""),
        province=names.get(resident.province_code, ""),
        religion=resident.get_religion_display(),
        marital_status=resident.get_marital_status_display(),
        occupation=resident.occupation or "-",
        citizenship=resident.citizenship,
        issued_on=issued_on,
    )


def _take_blank(point: ServicePoint, serial: str | None) -> Blank:
    if serial:
        serial = serial.strip()
        blank = Blank.objects.select_for_update().filter(serial=serial).first()
        if (
            blank is None
            or blank.service_point_id != point.pk
            or blank.state != Blank.State.IN_STOCK
        ):
            raise BlankUnavailable(f"Blangko {serial} tidak ada dalam stok {point.name}.")
        return blank
    blank = (
        Blank.objects.select_for_update(skip_locked=True)
        .filter(office_id=point.office_id, service_point=point, state=Blank.State.IN_STOCK)
        .order_by("serial")
        .first()
    )
    if blank is None:
        raise NoBlankInStock(
            f"Tidak ada blangko tersedia di {point.name}. Minta pemindahan blangko dari gudang "
            "kantor atau terbitkan suket."
        )
    return blank


def _refuse_if_printing(resident: Resident) -> None:
    """Refuse a second card while one is being printed for the resident."""
    open_ = (
        PrintReservation.objects.filter(resident=resident, status=PrintReservation.Status.PRINTING)
        .select_related("blank")
        .first()
    )
    if open_ is not None:
        raise PrintInProgress(
            f"Kartu {resident.name} sedang dicetak pada blangko {open_.blank.serial} sejak "
            f"{timezone.localtime(open_.reserved_at):%d-%m-%Y %H:%M}. Jika pencetakan terhenti, "
            "nyatakan hasilnya di halaman Rekonsiliasi cetak."
        )


def _reserve(
    *,
    job: jobs.JobLock,
    blank: Blank,
    resident: Resident,
    reason: str,
    request: ReprintRequest | None,
    point: ServicePoint,
    device: Device,
    operator: User,
    replaces: CardPrint | None = None,
    misprint_reason: str = "",
) -> PrintReservation:
    """Take the blank out of stock for this card (PRINTING) and name who prints it where."""
    blank.state = Blank.State.PRINTING
    blank.save(update_fields=["state", "updated_at"])
    return PrintReservation.objects.create(
        id=job.id,
        blank=blank,
        resident=resident,
        request=request,
        replaces=replaces,
        misprint_reason=misprint_reason[:250],
        reason=reason,
        service_point=point,
        printer=device,
        operator=operator,
        reserved_at=timezone.now(),
        node=node_name(),
        host=jobs.this_host(),
    )


def _print_reserved(
    *, reservation: PrintReservation, face: CardFace, printer: Printer, operator: User
) -> CardPrint:
    """Run the printer (no transaction open), then confirm the card or settle the failure."""
    try:
        proof = printer.print_card(face)
    except PrinterError as exc:
        settled = _settle_failed(
            reservation=reservation, message=str(exc), card_fed=exc.card_fed, actor=operator
        )
        if settled == PrintReservation.Status.SPOILED:
            outcome = f"Blangko {face.serial} dicatat rusak."
        else:
            outcome = f"Blangko {face.serial} tetap tersedia."
        raise PrinterUnavailable(f"{exc} {outcome}") from exc
    return confirm_print(reservation=reservation, proof=proof, actor=operator)


def print_card(
    *,
    request_or_resident: ReprintRequest | Resident,
    service_point: ServicePoint,
    printer: Printer,
    operator: User,
    serial: str | None = None,
) -> CardPrint:
    """Print one card on one blank from the point's stock (by serial, or the lowest in stock).

    Three steps, and no transaction is open while the printer works (10–30 s a card):
    reserve the blank (committed PRINTING state naming operator, printer and resident),
    print, then confirm the card or record the blank spoiled. A crash in between leaves
    the reservation for the reconciliation page. Call it outside any transaction."""
    office = service_point.office
    _check_office(operator, office)
    with jobs.JobLock() as job:
        try:
            reservation, face = _reserve_print(
                job=job,
                request_or_resident=request_or_resident,
                service_point=service_point,
                office=office,
                operator=operator,
                serial=serial,
            )
        except PrintDeferred as exc:
            if exc.store_on_request and isinstance(request_or_resident, ReprintRequest):
                ReprintRequest.objects.filter(
                    pk=request_or_resident.pk, status=ReprintRequest.Status.WAITING
                ).update(status=ReprintRequest.Status.DEFERRED, deferral_reason=str(exc))
            raise
        return _print_reserved(
            reservation=reservation, face=face, printer=printer, operator=operator
        )


def _reserve_print(
    *, job, request_or_resident, service_point, office, operator, serial
) -> tuple[PrintReservation, CardFace]:
    """Check the record, take a blank and reserve it, in one short transaction."""
    try:
        with transaction.atomic():
            request = None
            if isinstance(request_or_resident, ReprintRequest):
                request = ReprintRequest.objects.select_for_update().get(pk=request_or_resident.pk)
                if request.status not in (
                    ReprintRequest.Status.WAITING,
                    ReprintRequest.Status.DEFERRED,
                ):
                    raise NotPrintable(
                        f"Permohonan cetak ini berstatus {request.get_status_display().lower()}."
                    )
                resident = Resident.objects.select_for_update().get(pk=request.resident_id)
                reason = request.reason
                if resident.ktp_status not in HOLDERS_OF_A_CARD | {KtpStatus.PRINT_READY_RECORD}:
                    raise NotPrintable(
                        f"Status KTP-el {resident.get_ktp_status_display()}: belum dapat dicetak."
                    )
            else:
                resident = Resident.objects.select_for_update().get(pk=request_or_resident.pk)
                reason = PrintReason.NEW
                if resident.ktp_status != KtpStatus.PRINT_READY_RECORD:
                    raise NotPrintable(
                        f"{resident.name} berstatus {resident.get_ktp_status_display()}, "
                        "bukan siap cetak (PRR)."
                    )
            if resident.kabkota_code != office.region_id:
                raise NotPrintable(f"{resident.name} bukan penduduk wilayah {office.name}.")
            allowed, why = card_may_be_printed(resident, on=timezone.localdate())
            if not allowed:
                held = resident.ktp_status in HOLDERS_OF_A_CARD | {KtpStatus.PRINT_READY_RECORD}
                raise (CardHeld if held else NotPrintable)(f"{resident.name}: {why}")
            _refuse_if_printing(resident)
            device = working_printer(service_point)
            blank = _take_blank(service_point, serial)
            rationing.check_print(office=office, reason=reason, request=request, resident=resident)
            reservation = _reserve(
                job=job,
                blank=blank,
                resident=resident,
                reason=reason,
                request=request,
                point=service_point,
                device=device,
                operator=operator,
            )
            face = card_face(resident, blank.serial, timezone.localdate(reservation.reserved_at))
    except IntegrityError as exc:
        # The checks above run under the resident's lock; the constraints are the backstop.
        raise PrintInProgress(
            "Penduduk atau blangko ini sedang dalam pencetakan lain; muat ulang antrean."
        ) from exc
    return reservation, face


def _lock_reservation(reservation: PrintReservation) -> PrintReservation:
    # Only the reservation's row: locking the joined point and office too would make every
    # confirm wait on (and deadlock with) the reservations committing at the same point.
    return (
        PrintReservation.objects.select_for_update(of=("self",))
        .select_related("service_point__office", "blank", "resident", "operator")
        .get(pk=reservation.pk)
    )


def _confirm(
    reservation: PrintReservation,
    *,
    proof: str,
    actor: User,
    at: dt.datetime,
    reconciled: bool,
    note: str = "",
) -> CardPrint:
    """Turn a locked open reservation into the card it printed: blank used, card, ledger
    consumption, request closed, resident CARD_PRINTED with its history, audit."""
    point = reservation.service_point
    blank = Blank.objects.select_for_update().get(pk=reservation.blank_id)
    resident = Resident.objects.select_for_update().get(pk=reservation.resident_id)
    replaced = None
    if reservation.replaces_id is not None:
        replaced = CardPrint.objects.select_for_update().get(pk=reservation.replaces_id)
        replaced.voided_at = at
        replaced.void_reason = reservation.misprint_reason
        replaced.save(update_fields=["voided_at", "void_reason"])
        _spoil(
            blank=Blank.objects.select_for_update().get(pk=replaced.blank_id),
            cause=LedgerEntry.SpoilCause.MISPRINT,
            reason=reservation.misprint_reason,
            actor=reservation.operator,
            device=replaced.printer,
        )
    blank.state = Blank.State.USED
    blank.save(update_fields=["state", "updated_at"])
    card = CardPrint.objects.create(
        blank=blank,
        resident=resident,
        request_id=reservation.request_id,
        reason=reservation.reason,
        service_point=point,
        printer_id=reservation.printer_id,
        operator=reservation.operator,
        printed_at=at,
        node=reservation.node,
        proof=proof[:250],
    )
    why = f"Cetak {reservation.reason} {resident.nik}"
    if reconciled:
        why += " (dinyatakan tercetak pada rekonsiliasi)"
    _entry(
        kind=LedgerEntry.Kind.CONSUMPTION,
        office=point.office,
        actor=actor,
        blanks=[blank],
        from_point=point,
        device_id=reservation.printer_id,
        reason=why,
        at=at,
    )
    if replaced is None:
        if reservation.request_id is not None:
            ReprintRequest.objects.filter(pk=reservation.request_id).update(
                status=ReprintRequest.Status.PRINTED, deferral_reason=""
            )
        history = f"Kartu dicetak ({reservation.reason})"
        if reconciled:
            history += "; dinyatakan tercetak pada rekonsiliasi"
        _mark_resident(resident, KtpStatus.CARD_PRINTED, actor, history, point)
        record_audit(
            user=actor,
            action=AuditEvent.Action.CREATE,
            object_type="card_print",
            object_id=card.pk,
            detail={
                "serial": blank.serial,
                "nik": resident.nik,
                "reason": reservation.reason,
                "reconciled": reconciled,
            },
        )
    reservation.status = PrintReservation.Status.PRINTED
    reservation.card_print = card
    reservation.resolved_at = timezone.now()
    reservation.resolved_by = actor
    reservation.reconciled = reconciled
    reservation.note = note[:250]
    reservation.save(
        update_fields=["status", "card_print", "resolved_at", "resolved_by", "reconciled", "note"]
    )
    return card


def _close(reservation: PrintReservation, *, status: str, note: str, actor: User, reconciled: bool):
    """Settle a locked open reservation without a card: the blank spoiled, or back in stock."""
    blank = Blank.objects.select_for_update().get(pk=reservation.blank_id)
    if status == PrintReservation.Status.SPOILED:
        _spoil(
            blank=blank,
            cause=LedgerEntry.SpoilCause.MISPRINT,
            reason=note,
            actor=actor,
            device=reservation.printer,
        )
    else:
        blank.state = Blank.State.IN_STOCK
        blank.save(update_fields=["state", "updated_at"])
    reservation.status = status
    reservation.resolved_at = timezone.now()
    reservation.resolved_by = actor
    reservation.reconciled = reconciled
    reservation.note = note[:250]
    reservation.save(update_fields=["status", "resolved_at", "resolved_by", "reconciled", "note"])
    record_audit(
        user=actor,
        action=AuditEvent.Action.UPDATE,
        object_type="print_reservation",
        object_id=reservation.pk,
        detail={
            "serial": blank.serial,
            "nik": reservation.resident.nik,
            "outcome": status,
            "note": note[:250],
            "reconciled": reconciled,
        },
    )


def _late_answer(reservation: PrintReservation, actor: User) -> PrintSettled:
    """The printer answered after the reservation was settled on the reconciliation page."""
    serial = reservation.blank.serial
    record_audit(
        user=actor,
        action=AuditEvent.Action.UPDATE,
        object_type="print_reservation",
        object_id=reservation.pk,
        detail={"serial": serial, "late_printer_answer": reservation.status},
    )
    if reservation.status == PrintReservation.Status.NOT_PRINTED:
        return PrintSettled(
            f"Printer baru selesai mencetak blangko {serial}, padahal blangko itu sudah "
            "dinyatakan tidak tercetak pada rekonsiliasi. Tarik kartu itu dan catat blangko "
            f"{serial} rusak di halaman stok."
        )
    return PrintSettled(
        f"Printer baru selesai mencetak blangko {serial}, yang sudah dinyatakan "
        f"{reservation.get_status_display().lower()} pada rekonsiliasi; kartu itu tidak dicatat."
    )


def confirm_print(*, reservation: PrintReservation, proof: str, actor: User) -> CardPrint:
    """Record the card that came out of the printer for a reservation (safe to call twice)."""
    with transaction.atomic():
        locked = _lock_reservation(reservation)
        if locked.status == PrintReservation.Status.PRINTED:
            return locked.card_print
        if locked.status == PrintReservation.Status.PRINTING:
            return _confirm(locked, proof=proof, actor=actor, at=timezone.now(), reconciled=False)
    with transaction.atomic():
        late = _late_answer(locked, actor)
    raise late


def _settle_failed(
    *, reservation: PrintReservation, message: str, card_fed: bool, actor: User
) -> str:
    """Close a reservation whose printer failed: spoiled if the blank went in, else back in
    stock. Return the status it ends in."""
    with transaction.atomic():
        locked = _lock_reservation(reservation)
        if locked.status != PrintReservation.Status.PRINTING:
            return locked.status
        status = (
            PrintReservation.Status.SPOILED if card_fed else PrintReservation.Status.NOT_PRINTED
        )
        _close(
            locked,
            status=status,
            note=f"Printer gagal: {message}",
            actor=actor,
            reconciled=False,
        )
    return status


RECONCILE_OUTCOMES = {
    "printed": "Tercetak (kartu ada)",
    "spoiled": "Rusak / salah cetak (blangko tidak dapat dipakai)",
    "not_printed": "Tidak tercetak (blangko utuh, kembali ke stok)",
}
RECONCILERS = (Role.OPERATOR, Role.SUPERVISOR, Role.SYSTEM_ADMIN)


def reconcile_print(
    *, reservation: PrintReservation, outcome: str, note: str, actor: User
) -> PrintReservation:
    """Settle a reservation whose printer job stopped, as the operator found the blank:
    printed (the card is recorded), spoiled, or not printed (the blank goes back to stock)."""
    if actor.role not in RECONCILERS:
        raise CardsError("Hanya operator atau kepala dinas yang dapat merekonsiliasi cetakan.")
    if outcome not in RECONCILE_OUTCOMES:
        raise StockInvalid("Pilih hasil cetak: tercetak, rusak, atau tidak tercetak.")
    note = " ".join((note or "").split())
    if len(note) > 250:
        raise StockInvalid("Keterangan paling banyak 250 karakter.")
    if outcome != "printed" and not note:
        raise StockInvalid("Keterangan wajib diisi: jelaskan apa yang terjadi pada blangko.")
    with transaction.atomic():
        locked = _lock_reservation(reservation)
        _check_office(actor, locked.service_point.office)
        serial = locked.blank.serial
        if locked.status != PrintReservation.Status.PRINTING:
            raise PrintSettled(
                f"Cetakan pada blangko {serial} sudah diselesaikan: "
                f"{locked.get_status_display().lower()}."
            )
        if not selectors.awaits_reconciliation(locked):
            raise PrintInProgress(
                f"Pencetakan pada blangko {serial} masih berjalan (mulai "
                f"{timezone.localtime(locked.reserved_at):%H:%M}). Tunggu hasilnya; bila "
                f"terhenti, rekonsiliasi dapat dilakukan setelah "
                f"{settings.EKTP_PRINT_RECONCILE_AFTER_MINUTES} menit."
            )
        if outcome == "printed":
            _confirm(
                locked,
                proof="",
                actor=actor,
                at=locked.reserved_at,
                reconciled=True,
                note=note or "Dinyatakan tercetak pada rekonsiliasi.",
            )
        else:
            status = (
                PrintReservation.Status.SPOILED
                if outcome == "spoiled"
                else PrintReservation.Status.NOT_PRINTED
            )
            _close(locked, status=status, note=note, actor=actor, reconciled=True)
        job_id = locked.pk
        transaction.on_commit(lambda: jobs.forget(job_id))
    return locked


def report_misprint(
    *, card_print: CardPrint, reason: str, printer: Printer, operator: User
) -> CardPrint:
    """Print the card again on the next blank; once it is out, the misprinted card is voided
    and its blank recorded spoiled with the reason (a failed reprint leaves it as it was)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise StockInvalid("Alasan salah cetak wajib diisi.")
    with jobs.JobLock() as job:
        with transaction.atomic():
            card = (
                CardPrint.objects.select_for_update(of=("self",))
                .select_related("service_point__office", "blank")
                .get(pk=card_print.pk)
            )
            _check_office(operator, card.service_point.office)
            if card.voided_at is not None:
                raise StockInvalid("Cetakan ini sudah dibatalkan.")
            if card.handed_over_at is not None:
                raise StockInvalid("Kartu sudah diserahkan; laporkan sebagai kartu rusak.")
            resident = Resident.objects.select_for_update().get(pk=card.resident_id)
            _refuse_if_printing(resident)
            device = working_printer(card.service_point)
            blank = _take_blank(card.service_point, None)
            reservation = _reserve(
                job=job,
                blank=blank,
                resident=resident,
                reason=card.reason,
                request=card.request,
                point=card.service_point,
                device=device,
                operator=operator,
                replaces=card,
                misprint_reason=reason,
            )
            face = card_face(resident, blank.serial, timezone.localdate(reservation.reserved_at))
        return _print_reserved(
            reservation=reservation, face=face, printer=printer, operator=operator
        )


def hand_over(
    *, card_print: CardPrint, received_by_name: str, relation: str, operator: User
) -> CardPrint:
    """Record who received the printed card; the resident becomes CARD_ISSUED."""
    name = " ".join((received_by_name or "").split())
    if not name or len(name) > 100:
        raise NotPrintable("Nama penerima wajib diisi (paling banyak 100 karakter).")
    if relation not in RECEIVER_RELATIONS:
        raise NotPrintable("Hubungan penerima tidak dikenal.")
    with transaction.atomic():
        card = (
            CardPrint.objects.select_for_update(of=("self",))
            .select_related("service_point__office")
            .get(pk=card_print.pk)
        )
        _check_office(operator, card.service_point.office)
        if card.voided_at is not None:
            raise NotPrintable("Cetakan ini dibatalkan (salah cetak); serahkan kartu penggantinya.")
        if card.replacements.filter(status=PrintReservation.Status.PRINTING).exists():
            raise NotPrintable("Kartu pengganti untuk cetakan ini sedang dicetak.")
        if card.handed_over_at is not None:
            raise NotPrintable(
                f"Kartu sudah diserahkan kepada {card.received_by_name} "
                f"pada {timezone.localtime(card.handed_over_at):%d-%m-%Y %H:%M}."
            )
        resident = Resident.objects.select_for_update().get(pk=card.resident_id)
        card.handed_over_at = timezone.now()
        card.received_by_name = name
        card.received_relation = relation
        card.handed_over_by = operator
        card.save(
            update_fields=[
                "handed_over_at",
                "received_by_name",
                "received_relation",
                "handed_over_by",
            ]
        )
        _mark_resident(
            resident, KtpStatus.CARD_ISSUED, operator, f"Kartu diterima {name}", card.service_point
        )
    return card


def draft_blank_request(*, office: Office, actor: User) -> BlankRequest:
    """Draft a request for enough blanks to reach the target cover, with the figures behind it."""
    from ektp.cards.forecast import office_cover

    _check_office(actor, office)
    cover = office_cover(office)
    if cover.suggested_request < 1:
        raise StockInvalid(
            f"Stok cukup untuk target {cover.target_cover_days} hari; tidak perlu permohonan."
        )
    return BlankRequest.objects.create(
        office=office,
        quantity=cover.suggested_request,
        target_cover_days=cover.target_cover_days,
        figures=cover.as_figures(),
        created_by=actor,
    )


def submit_blank_request(*, request: BlankRequest, actor: User) -> BlankRequest:
    """Let the head of office submit a draft request."""
    if actor.role not in (Role.SUPERVISOR, Role.SYSTEM_ADMIN):
        raise CardsError(
            "Hanya kepala dinas (supervisor) yang dapat mengajukan permohonan blangko."
        )
    with transaction.atomic():
        request = BlankRequest.objects.select_for_update().get(pk=request.pk)
        _check_office(actor, request.office)
        if request.status != BlankRequest.Status.DRAFT:
            raise CardsError(f"Permohonan ini sudah {request.get_status_display().lower()}.")
        request.status = BlankRequest.Status.SUBMITTED
        request.submitted_at = timezone.now()
        request.submitted_by = actor
        request.save(update_fields=["status", "submitted_at", "submitted_by"])
        transaction.on_commit(lambda: rationing.forget(request.office))
    return request


def outstanding_requested(office: Office) -> int:
    """Blanks requested and submitted but not yet delivered."""
    open_ = BlankRequest.objects.filter(
        office=office,
        status__in=[BlankRequest.Status.SUBMITTED, BlankRequest.Status.PARTIALLY_DELIVERED],
    ).aggregate(q=Sum("quantity"), d=Sum("delivered_quantity"))
    return max((open_["q"] or 0) - (open_["d"] or 0), 0)


def ensure_demo_stock(office: Office, *, actor: User | None = None) -> None:
    """Give a demo office a realistic receipt and transfers to its points (idempotent)."""
    if LedgerEntry.objects.filter(office=office, kind=LedgerEntry.Kind.RECEIPT).exists():
        return
    if actor is None:
        actor = (
            User.objects.filter(role=Role.SUPERVISOR, region_id=office.region_id).first()
            or User.objects.filter(role=Role.SYSTEM_ADMIN).first()
        )
        if actor is None:
            actor = User.objects.create(
                username=f"sistem-{office.region_id}", role=Role.SYSTEM_ADMIN, is_active=False
            )
    prefix = office.region_id.replace(".", "")
    start = int(f"{prefix}26{0:08d}") + 1
    received_at = timezone.now() - dt.timedelta(days=40)
    receive_blanks(
        office=office,
        serial_first=str(start),
        serial_last=str(start + 2999),
        source=LedgerEntry.Source.MINISTRY,
        reference=f"DUKCAPIL/BLANGKO/{office.region_id}/2026-01",
        actor=actor,
        at=received_at,
    )
    points = list(office.service_points.filter(is_active=True).order_by("code"))
    for i, point in enumerate(points[:6]):
        transfer_blanks(
            office=office,
            from_point=None,
            to_point=point,
            quantity=300 if i == 0 else 100,
            actor=actor,
            reason="Distribusi awal",
        )
