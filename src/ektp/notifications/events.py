"""Notices for what happens to a resident's KTP-el, composed by the receivers of the domain
events (see receivers.py)."""

from __future__ import annotations

from django.utils import timezone

from ektp.cards.models import CardPrint
from ektp.core.formats import collect_from, tanggal
from ektp.notifications.models import Event, Message
from ektp.notifications.services import notify
from ektp.offices.models import Office
from ektp.residents.models import KtpStatus


def _office_name(resident) -> str:
    office = Office.objects.filter(region_id=resident.kabkota_code).only("name").first()
    return office.name if office else "kantor Disdukcapil"


def _latest_print(resident):
    return (
        CardPrint.objects.filter(resident=resident, voided_at__isnull=True)
        .select_related("service_point")
        .order_by("-printed_at")
        .first()
    )


def notify_ikd_howto(resident) -> list[Message]:
    """Tell a card holder how to activate the IKD, once per resident."""
    return notify(
        event=Event.IKD_HOWTO,
        resident=resident,
        context={"point": _office_name(resident)},
        dedup_key=f"{Event.IKD_HOWTO}:{resident.id}",
    )


def notify_status_change(resident, status: str, *, key: str = "") -> list[Message]:
    """Tell the resident about a new KTP-el status; statuses without a notice are ignored."""
    today = timezone.localdate()
    if status == KtpStatus.BIO_CAPTURED:
        event, context = Event.RECORDED, {"date": tanggal(resident.recorded_on or today)}
        key = key or str(resident.recorded_on or today)
    elif status == KtpStatus.PRINT_READY_RECORD:
        event, context = Event.PRINT_READY, {}
        key = key or str(resident.recorded_on)
    elif status == KtpStatus.DUPLICATE_RECORD:
        event, context = Event.DUPLICATE_FOUND, {"point": _office_name(resident)}
        key = key or str(resident.recorded_on)
    elif status in (KtpStatus.CARD_PRINTED, KtpStatus.CARD_ISSUED):
        card = _latest_print(resident)
        if card is None:
            return []
        key = key or str(card.id)
        if status == KtpStatus.CARD_PRINTED:
            event = Event.CARD_PRINTED
            context = {
                "point": card.service_point.name,
                "date": tanggal(collect_from(card.printed_at)),
            }
        else:
            event, context = Event.CARD_ISSUED, {"date": tanggal(card.handed_over_at or today)}
    else:
        return []
    return notify(
        event=event, resident=resident, context=context, dedup_key=f"{event}:{resident.id}:{key}"
    )


def notify_booking(*, booking, reminder: bool = False) -> list[Message]:
    """Tell the resident that a booking is confirmed, or remind them of it."""
    window = booking.window
    event = Event.BOOKING_REMINDER if reminder else Event.BOOKING_CONFIRMED
    context = {
        "date": tanggal(window.day),
        "window": f"{window.starts_at:%H.%M}–{window.ends_at:%H.%M}",
        "point": window.service_point.name,
        "code": booking.code,
    }
    return notify(
        event=event, resident=booking.resident, context=context, dedup_key=f"{event}:{booking.id}"
    )


def notify_suket_issued(*, suket, pdf: bytes) -> list[Message]:
    """Send the resident a new suket with its PDF."""
    return notify(
        event=Event.SUKET_ISSUED,
        resident=suket.resident,
        context={"number": suket.number, "valid_until": tanggal(suket.valid_until)},
        dedup_key=f"{Event.SUKET_ISSUED}:{suket.id}",
        attachment=(f"suket-{suket.number}.pdf".replace("/", "-"), pdf),
    )


def notify_printing_deferred(*, request) -> list[Message]:
    """Tell the resident why printing of a reprint request is deferred under rationing."""
    return notify(
        event=Event.PRINTING_DEFERRED,
        resident=request.resident,
        context={"reason": request.deferral_reason or "persediaan blangko terbatas"},
        dedup_key=f"{Event.PRINTING_DEFERRED}:{request.id}",
    )


ADDRESS_BATCH = 500


def notify_address_changed(*, change_set_id) -> int:
    """Tell every resident whose address a region decree changed (once per resident and
    decree, so a second run adds nothing); return the residents told."""
    from ektp.regions.models import AddressChange, Region, RegionChangeSet

    change_set = RegionChangeSet.objects.filter(pk=change_set_id).first()
    if change_set is None:
        return 0
    collect = tanggal(max(change_set.effective_on, collect_from(timezone.now())))
    names: dict[str, str] = {}
    offices = dict(Office.objects.values_list("region_id", "name"))
    rows = AddressChange.objects.filter(change_set=change_set).select_related("resident")
    told = 0
    for change in rows.order_by("pk").iterator(chunk_size=ADDRESS_BATCH):
        code = change.to_code
        if code not in names:
            region = Region.objects.filter(code=code).select_related("parent").first()
            names[code] = f"{region.name}, Kec. {region.parent.name}" if region else code
        resident = change.resident
        notify(
            event=Event.ADDRESS_CHANGED,
            resident=resident,
            context={
                "decree": change_set.number,
                "village": names[code],
                "point": offices.get(resident.kabkota_code, "kantor Disdukcapil"),
                "date": collect,
            },
            dedup_key=f"{Event.ADDRESS_CHANGED}:{change_set.pk}:{resident.pk}",
        )
        told += 1
    return told
