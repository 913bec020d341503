"""Printing: reprint requests, printing a card on a blank, reconciliation, misprints, hand-over."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
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
    CardPrint,
    LedgerEntry,
    PrintReason,
    PrintReservation,
    ReprintRequest,
)
from ektp.cards.printers import CardFace, Printer, PrinterError
from ektp.cards.services.common import _check_office, _check_point, node_name
from ektp.cards.services.ledger import _entry, _spoil
from ektp.cards.signals import announce, card_handed_over
from ektp.core.access import within_jurisdiction
from ektp.core.models import AuditEvent, Role, User
from ektp.core.services import record_audit
from ektp.enrollment.services import EnrollmentError, card_may_be_printed, transition
from ektp.offices.models import Device, Office, ServicePoint
from ektp.residents.models import KtpStatus, Resident

RECEIVER_RELATIONS = {
    "diri_sendiri": "Yang bersangkutan",
    "suami_istri": "Suami/istri",
    "orang_tua": "Orang tua",
    "anak": "Anak",
    "saudara": "Saudara",
    "kuasa": "Penerima kuasa",
}
HOLDERS_OF_A_CARD = {KtpStatus.CARD_PRINTED, KtpStatus.CARD_ISSUED}


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
        announce(card_handed_over, card=card, operator=operator)
    return card
