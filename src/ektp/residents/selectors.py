"""Reads for residents, always limited to the reader's jurisdiction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse

from ektp.appointments.models import Booking
from ektp.cards.models import CardPrint
from ektp.core.access import limit_to_jurisdiction, may_open
from ektp.core.models import AuditEvent, User
from ektp.enrollment.models import Enrollment, StatusChange
from ektp.regions import codes
from ektp.regions.selectors import ancestors_of
from ektp.residents.models import Resident
from ektp.residents.nik import is_digits
from ektp.suket.models import Suket


def residents_for(user: User) -> QuerySet[Resident]:
    """Return the residents this user may see."""
    return limit_to_jurisdiction(Resident.objects.all(), user)


def search_residents(*, user: User, query: str = "", village: str = "") -> QuerySet[Resident]:
    """Find residents by NIK or No. KK (exact), by name (contains) and/or by village code."""
    qs = residents_for(user).select_related("address_region", "family")
    query = " ".join((query or "").split())[:100]
    if is_digits(query) and len(query) == 16:
        by_nik = qs.filter(nik=query)
        return by_nik if by_nik.exists() else qs.filter(family__kk_number=query)
    if query:
        qs = qs.filter(name__icontains=query.upper())
    if village:
        if not codes.is_valid_code(village):
            return qs.none()
        field = {1: "province_code", 2: "kabkota_code", 3: "kecamatan_code", 4: "address_region_id"}
        qs = qs.filter(**{field[codes.level_of(village)]: village})
    if not query and not village:
        return qs.none()
    return qs.order_by("name", "nik")


def get_resident_by_nik(*, user: User, nik: str) -> Resident | None:
    """Return the resident with this NIK if the user may see it, else None."""
    return residents_for(user).select_related("address_region", "family").filter(nik=nik).first()


# ---------------------------------------------------------------- the resident page

RECORDABLE = ("BELUM_REKAM", "ENROLL_FAILURE")
# Recorded but without a card in hand: a suket may stand in (the suket service decides).
SUKET_CANDIDATES = (
    "BIO_CAPTURED",
    "SENT_FOR_ENROLLMENT",
    "PRINT_READY_RECORD",
    "DUPLICATE_RECORD",
    "ENROLL_FAILURE",
)
HISTORY_SHOWN = 20
ROWS_SHOWN = 10


@dataclass(frozen=True)
class Action:
    """A next step the page offers: a link (GET) or a one-button form (POST)."""

    label: str
    url: str
    method: str = "get"
    primary: bool = False


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    what: str
    why: str
    who: str
    where: str


@dataclass(frozen=True)
class ResidentPage:
    """Everything the resident page shows, read with a fixed number of queries."""

    resident: Resident
    region_path: list
    members: list[Resident]
    enrollment: Enrollment | None
    history: list[StatusChange]
    edits: list[AuditEvent]
    cards: list[CardPrint]
    sukets: list[Suket]
    bookings: list[Booking]

    @property
    def timeline(self) -> list[TimelineEntry]:
        """KTP-el status changes and data edits together, newest first."""
        entries = [
            TimelineEntry(
                at=c.at,
                what=f"{c.get_from_status_display() or '—'} → {c.get_to_status_display()}",
                why=c.reason,
                who=str(c.actor) if c.actor else "sistem",
                where=c.service_point.name if c.service_point else "",
            )
            for c in self.history
        ]
        entries += [
            TimelineEntry(
                at=e.at,
                what="Data didaftarkan" if e.action == AuditEvent.Action.CREATE else "Data diubah",
                why="",
                who=str(e.user) if e.user else "sistem",
                where="",
            )
            for e in self.edits
        ]
        return sorted(entries, key=lambda t: t.at, reverse=True)

    @property
    def valid_suket(self) -> Suket | None:
        return next((s for s in self.sukets if s.status == Suket.Status.VALID), None)

    @property
    def active_booking(self) -> Booking | None:
        return next((b for b in self.bookings if b.is_active), None)

    @property
    def card_to_hand_over(self) -> CardPrint | None:
        return next((c for c in self.cards if c.voided_at is None and not c.handed_over_at), None)


def resident_page(*, user: User, nik: str) -> ResidentPage | None:
    """Read the resident page: the resident, the family, the KTP-el history and edits,
    the cards, sukets and bookings (eight queries whatever the resident holds)."""
    resident = (
        residents_for(user)
        .select_related("address_region", "family", "enrollment__service_point")
        .filter(nik=nik)
        .first()
    )
    if resident is None:
        return None
    members = []
    if resident.family_id:
        members = list(
            residents_for(user)
            .filter(family_id=resident.family_id)
            .exclude(pk=resident.pk)
            .order_by("birth_date", "nik")
            .only("nik", "name", "family_relation", "birth_date", "ktp_status", "sex")
        )
    history = list(
        StatusChange.objects.filter(resident=resident)
        .select_related("actor", "service_point")
        .order_by("-at")[:HISTORY_SHOWN]
    )
    edits = list(
        AuditEvent.objects.filter(
            object_type="resident",
            object_id=resident.nik,
            action__in=[AuditEvent.Action.CREATE, AuditEvent.Action.UPDATE],
        )
        .select_related("user")
        .order_by("-seq")[:ROWS_SHOWN]
    )
    cards = list(
        CardPrint.objects.filter(resident=resident)
        .select_related("service_point")
        .order_by("-printed_at")[:ROWS_SHOWN]
    )
    sukets = list(Suket.objects.filter(resident=resident).order_by("-issued_at")[:ROWS_SHOWN])
    bookings = list(
        Booking.objects.filter(resident=resident)
        .select_related("window__service_point")
        .order_by("-window__day", "-window__starts_at")[:ROWS_SHOWN]
    )
    try:
        enrollment = resident.enrollment
    except Enrollment.DoesNotExist:
        enrollment = None
    return ResidentPage(
        resident=resident,
        region_path=[*ancestors_of(resident.address_region_id), resident.address_region],
        members=members,
        enrollment=enrollment,
        history=history,
        edits=edits,
        cards=cards,
        sukets=sukets,
        bookings=bookings,
    )


def resident_actions(page: ResidentPage, *, role: str) -> list[Action]:
    """Return the next steps that fit the resident's KTP-el state and that this role may open."""
    r = page.resident
    status = r.ktp_status
    wanted: list[Action] = []
    if status in RECORDABLE or (status == "BIO_CAPTURED" and page.enrollment is None):
        wanted.append(
            Action("Rekam biometrik", reverse("enrollment:record", args=[r.nik]), primary=True)
        )
    if status == "BIO_CAPTURED" and page.enrollment is not None:
        wanted.append(
            Action(
                "Kirim untuk penunggalan",
                reverse("enrollment:send", args=[r.nik]),
                method="post",
                primary=True,
            )
        )
    if status == "PRINT_READY_RECORD":
        wanted.append(Action("Cetak KTP-el", f"{reverse('cards:queue')}?q={r.nik}", primary=True))
    if status == "CARD_PRINTED" and page.card_to_hand_over is not None:
        wanted.append(
            Action("Serahkan KTP-el", f"{reverse('cards:queue')}?q={r.nik}", primary=True)
        )
    suket = page.valid_suket
    if suket is not None:
        wanted.append(Action("Unduh suket (PDF)", reverse("suket:pdf", args=[suket.pk])))
    elif status in SUKET_CANDIDATES and r.recorded_on:
        wanted.append(Action("Terbitkan suket", f"{reverse('suket:list')}?nik={r.nik}"))
    if status in RECORDABLE and page.active_booking is None:
        wanted.append(Action("Buat janji perekaman", reverse("booking:identify")))
    wanted.append(Action("Riwayat KTP-el", reverse("enrollment:history", args=[r.nik])))
    wanted.append(Action("Ubah data", reverse("residents:edit", args=[r.nik])))
    return [a for a in wanted if may_open(role, a.url.split("?", 1)[0])]
