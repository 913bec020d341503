"""The blank ledger: receipts, transfers, spoilage, returned cards, loans and counts."""

from __future__ import annotations

import datetime as dt
import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from ektp.cards import rationing
from ektp.cards.errors import (
    BlankUnavailable,
    CardsError,
    StockInvalid,
)
from ektp.cards.models import (
    Blank,
    BlankRequest,
    CardPrint,
    LedgerEntry,
    LedgerLine,
)
from ektp.cards.services.common import _check_office, _check_point, node_name
from ektp.core.models import AuditEvent, Role, User
from ektp.core.services import record_audit
from ektp.offices.models import Device, Office, ServicePoint
from ektp.residents.models import Resident

SERIAL_RE = re.compile(r"\A[0-9]{6,20}\Z")
MAX_RECEIPT = 100_000


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
