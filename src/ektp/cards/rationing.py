"""Rationing under shortage: who is printed first and how many per day while stock is short."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone

from ektp.cards.errors import PrintDeferred
from ektp.cards.models import (
    CardPolicy,
    CardPrint,
    PrintReason,
    PrintReservation,
    ReprintRequest,
)
from ektp.offices.models import Office
from ektp.residents.models import Resident

CATEGORY_LABELS = {
    "first_voter": "Pemilih pemula",
    "new": "Wajib KTP baru",
    "data_change": "Perubahan data / pindah",
    "region_change": "Perubahan wilayah (keputusan)",
    "lost": "Hilang",
    "damaged": "Rusak",
    "damaged_usable": "Rusak tetapi masih dapat dipakai",
}
# A decree's reprints come after the residents' own needs: their old cards stay valid and a
# decree may queue thousands at once; a policy can move them up.
DEFAULT_ORDER = [
    "first_voter",
    "new",
    "data_change",
    "lost",
    "damaged",
    "region_change",
    "damaged_usable",
]
DEFERRED_USABLE = (
    "Stok blangko terbatas sampai pengiriman berikutnya; kartu lama Anda masih dapat "
    "dipakai sehingga cetak ulang ditunda dan didahulukan wajib KTP baru."
)
FIRST_VOTER_MAX_AGE = 21


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def category(
    *,
    reason: str,
    resident: Resident,
    old_card_usable: bool,
    election_date: dt.date | None,
    from_decree: bool = False,
) -> str:
    """Return the priority category of one print."""
    if from_decree:
        return "region_change"
    if reason in (PrintReason.NEW, PrintReason.SUKET_EXCHANGE):
        today = timezone.localdate()
        if (
            election_date is not None
            and election_date >= today
            and 17 <= _age_on(resident.birth_date, election_date) <= FIRST_VOTER_MAX_AGE
        ):
            return "first_voter"
        return "new"
    if reason in (PrintReason.DATA_CHANGE, PrintReason.MOVED):
        return "data_change"
    if reason == PrintReason.LOST:
        return "lost"
    return "damaged_usable" if old_card_usable else "damaged"


def priority_order(policy: CardPolicy) -> list[str]:
    """Return the policy's category order, completed with any category it leaves out."""
    order = [c for c in (policy.priority_order or []) if c in CATEGORY_LABELS]
    return order + [c for c in DEFAULT_ORDER if c not in order]


@dataclass(frozen=True)
class Shortage:
    """Whether stock is short, and how many cards a day keep it to the next delivery."""

    short: bool
    daily_allowance: int | None
    printed_today: int | None
    days_to_next_delivery: int


JUDGEMENT_SECONDS = 60


def _cache_key(office: Office) -> str:
    return f"cards:shortage:{office.pk}:{timezone.localdate().isoformat()}"


def forget(office: Office) -> None:
    """Drop the cached shortage judgement after stock arrives, moves or is lost."""
    cache.delete(_cache_key(office))


def _printing_now(office: Office) -> int:
    """Blanks on a printer now, reserved out of stock for a first card (not a reprint)."""
    return PrintReservation.objects.filter(
        service_point__office=office,
        status=PrintReservation.Status.PRINTING,
        replaces__isnull=True,
    ).count()


def _printed_today(office: Office) -> int:
    """Cards printed today, and those on the printer now (their blanks are reserved, out of
    stock, and will be cards unless the printer fails)."""
    start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    printed = CardPrint.objects.filter(
        service_point__office=office, printed_at__gte=start, voided_at__isnull=True
    ).count()
    printing = PrintReservation.objects.filter(
        service_point__office=office,
        status=PrintReservation.Status.PRINTING,
        replaces__isnull=True,  # a reprint of a misprint replaces a card already counted
    ).count()
    return printed + printing


def shortage(office: Office, *, count_today: bool = True, cover=None) -> Shortage:
    """Judge the office's shortage from its days of cover.

    The stock of the day (on hand + printed today) does not change when a card is printed,
    so the judgement is kept for a minute; only today's print count is read every time,
    unless `count_today` is False (printed_today is then None: the caller counts the cards
    itself, under the office's lock). A page that has just computed the office's cover
    passes it as `cover`, so that it is not computed twice."""
    judged = cache.get(_cache_key(office))
    if judged is None:
        from ektp.cards.forecast import office_cover

        cover = cover or office_cover(office)
        days = max(cover.days_to_next_delivery, 1)
        stock_today = cover.on_hand + cover.printed_today + _printing_now(office)
        allowance = max(math.floor(stock_today / days), 1) if stock_today else 0
        judged = (cover.alert, allowance, days)
        cache.set(_cache_key(office), judged, JUDGEMENT_SECONDS)
    short, allowance, days = judged
    if not short:
        return Shortage(False, None, None, days)
    return Shortage(True, allowance, _printed_today(office) if count_today else None, days)


def check_print(
    *, office: Office, reason: str, request: ReprintRequest | None, resident: Resident
) -> None:
    """Refuse a print that rationing defers; store the reason on a deferred request.

    Called inside the print's transaction (it locks the office's row until the print commits).
    """
    state = shortage(office, count_today=False)  # counted below, once the office is locked
    if not state.short:
        return
    policy = CardPolicy.of(office)
    usable = request.old_card_usable if request is not None else False
    cat = category(
        reason=reason,
        resident=resident,
        old_card_usable=usable,
        election_date=policy.election_date,
        from_decree=request is not None and request.change_set_id is not None,
    )
    if cat == "damaged_usable" and policy.defer_damaged_usable:
        raise PrintDeferred(DEFERRED_USABLE, store_on_request=request is not None)
    if state.daily_allowance is None:
        return
    # The prints of one office take turns on its row while stock is rationed: each counts
    # today's cards after the print before it has committed, so that two operators at once
    # cannot both print the last card of the day's allowance.
    Office.objects.select_for_update().filter(pk=office.pk).values_list("pk", flat=True).get()
    if _printed_today(office) >= state.daily_allowance:
        raise PrintDeferred(
            f"Jatah cetak hari ini ({state.daily_allowance} kartu) sudah habis agar stok cukup "
            f"sampai pengiriman berikutnya ({state.days_to_next_delivery} hari lagi)."
        )


@dataclass
class QueueItem:
    resident: Resident
    request: ReprintRequest | None
    reason: str
    category: str
    waiting_since: dt.date | None
    decision: str = "cetak"
    note: str = ""
    position: int = 0
    ration_day: int = 0

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS[self.category]

    @property
    def reason_label(self) -> str:
        return str(PrintReason(self.reason).label)


def defer_usable_requests(*, office: Office) -> int:
    """Under shortage, mark open damaged-but-usable requests deferred with the reason."""
    policy = CardPolicy.of(office)
    if not policy.defer_damaged_usable or not shortage(office).short:
        return 0
    return ReprintRequest.objects.filter(
        office=office,
        status=ReprintRequest.Status.WAITING,
        reason=PrintReason.DAMAGED,
        old_card_usable=True,
    ).update(status=ReprintRequest.Status.DEFERRED, deferral_reason=DEFERRED_USABLE)
