"""Reads for naskah dinas: an office's letterhead (saved, or what it would say by default)."""

from __future__ import annotations

from ektp.naskah.models import Letter, Letterhead
from ektp.offices.models import Office


def _place_name(office: Office) -> str:
    name = office.region.name.title()
    for prefix in ("Kabupaten ", "Kota ", "Kab. "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def letterhead_of(office: Office) -> Letterhead:
    """The office's letterhead; an unsaved one with the defaults when the head has not set it."""
    saved = Letterhead.objects.filter(office=office).first()
    if saved is not None:
        return saved
    return Letterhead(
        office=office,
        government="PEMERINTAH " + office.region.name.upper(),
        city=_place_name(office),
        head_name="",
        head_rank="",
        head_nip="",
    )


def letter_for(*, kind: str, subject_id) -> Letter | None:
    """The numbered letter already made for a document, if any."""
    return Letter.objects.filter(kind=kind, subject_id=str(subject_id)).first()


def handed_over_today(office: Office, point=None, *, limit: int = 20) -> list:
    """Today's hand-overs at an office (or one point), newest first, for their receipts."""
    import datetime as dt

    from django.utils import timezone

    from ektp.cards.models import CardPrint

    start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    qs = CardPrint.objects.filter(service_point__office=office, handed_over_at__gte=start)
    if point is not None:
        qs = qs.filter(service_point=point)
    return list(
        qs.select_related("resident", "blank", "service_point").order_by("-handed_over_at")[:limit]
    )
