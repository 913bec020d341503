"""Reads for cards: offices in reach, the print queue, stock by location, the ledger."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    Q,
    QuerySet,
    UUIDField,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from ektp.cards import jobs
from ektp.cards.models import (
    Blank,
    BlankRequest,
    CardPolicy,
    CardPrint,
    LedgerEntry,
    PrintReason,
    PrintReservation,
    ReprintRequest,
)
from ektp.cards.rationing import (
    DEFERRED_USABLE,
    FIRST_VOTER_MAX_AGE,
    QueueItem,
    Shortage,
    category,
    priority_order,
    shortage,
)
from ektp.offices.models import Office, ServicePoint
from ektp.residents.models import KtpStatus, Resident, years_ago

QUEUE_PAGE = 50


def card_policy(office: Office) -> CardPolicy:
    """The office's card policy, or the defaults when it has none (nothing is written)."""
    return CardPolicy.of(office)


def point_of(office: Office, point_id) -> ServicePoint | None:
    """Return the office's service point with this id, or None."""
    try:
        return office.service_points.filter(pk=point_id).first()
    except (ValueError, TypeError, ValidationError):
        return None


def on_hand(office: Office, point: ServicePoint | None = None) -> int:
    """Count blanks in stock at one place (None = the office store)."""
    return Blank.objects.filter(
        office=office, service_point=point, state=Blank.State.IN_STOCK
    ).count()


@dataclass(frozen=True)
class StockRow:
    point: ServicePoint | None
    place: str
    in_stock: int


def stock_by_location(office: Office) -> list[StockRow]:
    """On hand at the store and each service point, derived from the blanks."""
    counts = dict(
        Blank.objects.filter(office=office, state=Blank.State.IN_STOCK)
        .values("service_point_id")
        .annotate(n=Count("id"))
        .values_list("service_point_id", "n")
    )
    rows = [StockRow(None, "Gudang kantor", counts.get(None, 0))]
    for point in office.service_points.order_by("code"):
        rows.append(StockRow(point, point.name, counts.get(point.pk, 0)))
    return rows


def blank_totals(office: Office) -> dict[str, int]:
    """Count the office's blanks by state."""
    rows = Blank.objects.filter(office=office).values("state").annotate(n=Count("id"))
    totals = dict.fromkeys(Blank.State.values, 0)
    totals.update({r["state"]: r["n"] for r in rows})
    return totals


def ledger(office: Office, *, point: ServicePoint | None = None, kind: str = "") -> QuerySet:
    """The office's ledger, newest first, optionally for one point or one kind."""
    qs = LedgerEntry.objects.filter(Q(office=office) | Q(counterpart_office=office))
    if point is not None:
        qs = qs.filter(Q(from_point=point) | Q(to_point=point))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.select_related(
        "from_point", "to_point", "actor", "counterpart_office", "device"
    ).order_by("-at")


def pending_loans(office: Office) -> QuerySet[LedgerEntry]:
    """Loans sent to this office and not yet received."""
    return LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.LOAN_OUT, counterpart_office=office, loan_in_entry__isnull=True
    ).select_related("office")


def prr_waiting(region_code: str, *, today: dt.date | None = None) -> QuerySet[Resident]:
    """The PRR records waiting for print in a region (a kab/kota or a kecamatan code): wajib
    KTP residents on `today`, recorded, with the status PRINT_READY_RECORD.

    The one count of PRR: the print queue, the stock and cover pages, the API, the request
    letter and the coverage dashboard (whose `prr` is the same filter on the same day) all
    read it. A card held until the 17th birthday is not waiting for print."""
    today = today or timezone.localdate()
    scope = (
        {"kabkota_code": region_code} if len(region_code) <= 5 else {"kecamatan_code": region_code}
    )
    return Resident.objects.wajib_ktp(today).filter(
        ktp_status=KtpStatus.PRINT_READY_RECORD, recorded_on__lte=today, **scope
    )


def prr_count(office: Office, *, today: dt.date | None = None) -> int:
    """Count the office's PRR waiting for print (see prr_waiting): today's from the village
    counts the coverage pages read, another day's by counting."""
    from ektp.cards.forecast import kept_prr_by_kecamatan

    if today is None or today == timezone.localdate():
        by_kec = kept_prr_by_kecamatan(office.region_id, today=timezone.localdate())
        return sum(n for n, _ in by_kec.values())
    return prr_waiting(office.region_id, today=today).count()


OPEN_REQUEST = [ReprintRequest.Status.WAITING, ReprintRequest.Status.DEFERRED]
NEW_REASONS = [PrintReason.NEW, PrintReason.SUKET_EXCHANGE]


def _category_rank(
    rank: dict[str, int],
    *,
    reason,
    usable,
    birth,
    election: dt.date | None,
    today: dt.date,
    decree: str | None = None,
) -> Case:
    """The priority rank of a queue entry in SQL, the same as rationing.category()."""
    new = Q(**{f"{reason}__in": NEW_REASONS})
    whens = []
    if decree is not None:
        whens.append(When(Q(**{f"{decree}__isnull": False}), then=Value(rank["region_change"])))
    if election is not None and election >= today:
        # 17 to FIRST_VOTER_MAX_AGE years old on polling day.
        youngest = years_ago(election, 17)
        oldest = years_ago(election, FIRST_VOTER_MAX_AGE + 1)
        voter = Q(**{f"{birth}__lte": youngest, f"{birth}__gt": oldest})
        whens.append(When(new & voter, then=Value(rank["first_voter"])))
    whens += [
        When(new, then=Value(rank["new"])),
        When(
            Q(**{f"{reason}__in": [PrintReason.DATA_CHANGE, PrintReason.MOVED]}),
            then=Value(rank["data_change"]),
        ),
        When(Q(**{reason: PrintReason.LOST}), then=Value(rank["lost"])),
        When(Q(**{usable: True}), then=Value(rank["damaged_usable"])),
    ]
    return Case(*whens, default=Value(rank["damaged"]), output_field=IntegerField())


def _search_q(text: str, prefix: str = "") -> Q:
    digits = text.replace(" ", "")
    if digits.isdigit():
        if len(digits) == 16:
            return Q(**{f"{prefix}nik": digits})
        return Q(**{f"{prefix}nik__startswith": digits})
    return Q(**{f"{prefix}name__icontains": " ".join(text.split())})


@dataclass(frozen=True)
class QueueScope:
    """What the print queue lists: an office, optionally one point and a search."""

    office: Office
    point: ServicePoint | None = None
    search: str = ""


def _queue_parts(
    scope: QueueScope, today: dt.date, policy: CardPolicy | None = None
) -> tuple[QuerySet, QuerySet]:
    """The two halves of the queue as values querysets with the same columns."""
    office, point = scope.office, scope.point
    policy = policy or card_policy(office)
    rank = {c: i for i, c in enumerate(priority_order(policy))}
    printing = PrintReservation.objects.filter(status=PrintReservation.Status.PRINTING)
    residents = prr_waiting(office.region_id, today=today).exclude(
        pk__in=ReprintRequest.objects.filter(status__in=OPEN_REQUEST).values("resident")
    )
    requests = ReprintRequest.objects.filter(office=office, status__in=OPEN_REQUEST)
    if point is not None and point.region_id and point.kind != ServicePoint.Kind.OFFICE:
        residents = residents.filter(kecamatan_code=point.region_id)
        requests = requests.filter(
            Q(service_point=point)
            | Q(service_point__isnull=True, resident__kecamatan_code=point.region_id)
        )
    if scope.search.strip():
        residents = residents.filter(_search_q(scope.search))
        requests = requests.filter(_search_q(scope.search, "resident__"))
    residents = (
        residents.exclude(pk__in=printing.values("resident"))
        .order_by()
        .annotate(
            resident_ref=F("pk"),
            request_ref=Value(None, output_field=UUIDField()),
            reason_code=Value(PrintReason.NEW, output_field=CharField()),
            rank=_category_rank(
                rank,
                reason="reason_code",
                usable="has_itap",  # never reached for NEW: any boolean column
                birth="birth_date",
                election=policy.election_date,
                today=today,
            ),
            waiting=F("recorded_on"),
            nik_ref=F("nik"),
        )
        .values("resident_ref", "request_ref", "reason_code", "rank", "waiting", "nik_ref")
    )
    requests = (
        requests.exclude(resident__in=printing.values("resident"))
        .order_by()
        .annotate(
            resident_ref=F("resident_id"),
            request_ref=F("pk"),
            reason_code=F("reason"),
            rank=_category_rank(
                rank,
                reason="reason",
                usable="old_card_usable",
                birth="resident__birth_date",
                election=policy.election_date,
                today=today,
                decree="change_set",
            ),
            waiting=TruncDate("created_at"),
            nik_ref=F("resident__nik"),
        )
        .values("resident_ref", "request_ref", "reason_code", "rank", "waiting", "nik_ref")
    )
    return residents, requests


def queue_entries(
    scope: QueueScope, *, today: dt.date | None = None, policy: CardPolicy | None = None
) -> QuerySet:
    """The print queue as one ordered query (rank, waiting since, NIK): the PRR records
    without an open reprint request (reason NEW) and the open reprint requests, each row a
    dict of resident_ref, request_ref, reason_code, rank, waiting and nik_ref; paginate it."""
    residents, requests = _queue_parts(scope, today or timezone.localdate(), policy)
    return residents.union(requests, all=True).order_by("rank", "waiting", "nik_ref")


class CountedQueue:
    """The ordered queue for Django's Paginator with its size counted another way (the
    union's COUNT would read every PRR record of the district)."""

    def __init__(self, entries: QuerySet, count):
        self.entries, self._count = entries, count

    def count(self) -> int:
        return self._count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item):
        return self.entries[item]


def whole_queue_count(office: Office, *, prr: int, today: dt.date) -> int:
    """The size of the office's whole queue (queue_entries without a point or search): the
    PRR count, less the PRR records with an open reprint request or a print under way (few:
    read by id), plus the open requests without a print under way."""
    printing = PrintReservation.objects.filter(status=PrintReservation.Status.PRINTING)
    open_requests = ReprintRequest.objects.filter(status__in=OPEN_REQUEST)
    taken = Q(pk__in=open_requests.values("resident")) | Q(pk__in=printing.values("resident"))
    left_out = prr_waiting(office.region_id, today=today).filter(taken).count()
    requests = (
        open_requests.filter(office=office)
        .exclude(resident__in=printing.values("resident"))
        .count()
    )
    return prr - left_out + requests


@dataclass(frozen=True)
class QueuePage:
    """One page of the print queue with the ration applied to each entry."""

    page: Page
    items: list[QueueItem]
    shortage: Shortage
    prr: int
    left_today: int | None
    deferred: int


def _items(rows: list[dict], *, policy: CardPolicy) -> list[QueueItem]:
    """Turn a page of queue rows into items, reading their residents and requests in two
    queries."""
    residents = Resident.objects.in_bulk([r["resident_ref"] for r in rows])
    requests = ReprintRequest.objects.in_bulk([r["request_ref"] for r in rows if r["request_ref"]])
    items = []
    for r in rows:
        req = requests.get(r["request_ref"]) if r["request_ref"] else None
        resident = residents[r["resident_ref"]]
        items.append(
            QueueItem(
                resident=resident,
                request=req,
                reason=r["reason_code"],
                category=category(
                    reason=r["reason_code"],
                    resident=resident,
                    old_card_usable=req.old_card_usable if req else False,
                    election_date=policy.election_date,
                    from_decree=req is not None and req.change_set_id is not None,
                ),
                waiting_since=r["waiting"],
                note=req.deferral_reason
                if req and req.status == ReprintRequest.Status.DEFERRED
                else "",
            )
        )
    return items


def print_queue(
    office: Office,
    point: ServicePoint | None = None,
    *,
    search: str = "",
    page: int = 1,
    per_page: int = QUEUE_PAGE,
) -> QueuePage:
    """One page of the print queue in print order, each entry with its position and its
    decision under the ration (print today, waits for a later day's ration, deferred)."""
    today = timezone.localdate()
    policy = card_policy(office)
    prr = prr_count(office, today=today)
    entries = queue_entries(QueueScope(office, point, search), today=today, policy=policy)
    if not search.strip() and point is None:
        entries = CountedQueue(entries, lambda: whole_queue_count(office, prr=prr, today=today))
    current = Paginator(entries, per_page).get_page(page)
    items = _items(list(current.object_list), policy=policy)
    state = shortage(office)
    defers = state.short and policy.defer_damaged_usable
    deferred = deferred_usable_count(office) if defers else 0
    left = _left_today(state)
    if search or point is not None:  # a place in the office's whole queue (the ration's)
        rows = list(current.object_list)
        positions = _positions(QueueScope(office), rows, today=today, policy=policy)
    else:
        positions = [current.start_index() + offset for offset in range(len(items))]
    for item, position in zip(items, positions, strict=True):
        item.position = position
        _ration(item, state=state, policy=policy, left=left, deferred=deferred)
    return QueuePage(
        page=current,
        items=items,
        shortage=state,
        prr=prr,
        left_today=left,
        deferred=deferred,
    )


def _positions(
    scope: QueueScope, rows: list[dict], *, today: dt.date, policy: CardPolicy
) -> list[int]:
    """The places of some queue rows in the whole queue of the scope: the entries before
    each, counted for all rows at once (one query for each half of the queue)."""
    if not rows:
        return []
    residents, requests = _queue_parts(scope, today, policy)
    counts = {}
    for i, row in enumerate(rows):
        before = (
            Q(rank__lt=row["rank"])
            | Q(rank=row["rank"], waiting__lt=row["waiting"])
            | Q(rank=row["rank"], waiting=row["waiting"], nik_ref__lt=row["nik_ref"])
        )
        counts[f"r{i}"] = Count("nik_ref", filter=before)
    ahead_res = residents.aggregate(**counts)
    ahead_req = requests.aggregate(**counts)
    return [ahead_res[f"r{i}"] + ahead_req[f"r{i}"] + 1 for i in range(len(rows))]


def _left_today(state: Shortage) -> int | None:
    if not state.short:
        return None
    return max((state.daily_allowance or 0) - (state.printed_today or 0), 0)


def _ration(item: QueueItem, *, state: Shortage, policy: CardPolicy, left, deferred: int) -> None:
    """Decide one entry at its position under the ration: print today, a later day, deferred.

    The first `left` entries of the whole queue print today; a damaged card still usable
    is deferred (and does not take a place) while the policy says so."""
    if not state.short:
        return
    defers = policy.defer_damaged_usable
    if defers and item.category == "damaged_usable":
        item.decision, item.note = "tunda", DEFERRED_USABLE
        return
    order = priority_order(policy)
    ahead = item.position - 1  # entries before this one in the whole queue
    if defers and order.index("damaged_usable") < order.index(item.category):
        ahead -= deferred
    if ahead < left:
        item.decision = "cetak"
        item.note = f"Masuk jatah cetak hari ini (sisa {left} kartu)."
        return
    allowance = max(state.daily_allowance or 1, 1)
    item.decision = "menunggu_jatah"
    item.ration_day = (ahead - left) // allowance + 1
    item.note = (
        f"Menunggu jatah cetak: perkiraan {item.ration_day} hari layanan lagi "
        f"(jatah {allowance} kartu per hari sampai pengiriman blangko berikutnya)."
    )


@dataclass(frozen=True)
class Outlook:
    """Whether a resident's card can be printed today, and why not."""

    in_queue: bool
    decision: str
    note: str
    position: int | None


def print_outlook(office: Office, resident: Resident) -> Outlook:
    """Tell whether the resident's card is printed today under the ration: the resident's
    place in the office's whole queue."""
    today = timezone.localdate()
    policy = card_policy(office)
    residents, requests = _queue_parts(QueueScope(office, None, resident.nik), today, policy)
    row = next(iter(residents), None) or next(iter(requests), None)
    if row is None:
        return Outlook(False, "", "Tidak ada dalam antrean cetak.", None)
    state = shortage(office)
    if not state.short:
        return Outlook(True, "cetak", "", None)
    (item,) = _items([row], policy=policy)
    (item.position,) = _positions(QueueScope(office), [row], today=today, policy=policy)
    deferred = deferred_usable_count(office) if policy.defer_damaged_usable else 0
    _ration(item, state=state, policy=policy, left=_left_today(state), deferred=deferred)
    return Outlook(True, item.decision, item.note, item.position)


def deferred_usable_count(office: Office) -> int:
    """Open requests for a damaged card that is still usable (deferred under shortage)."""
    return ReprintRequest.objects.filter(
        office=office,
        status__in=OPEN_REQUEST,
        reason=PrintReason.DAMAGED,
        old_card_usable=True,
    ).count()


def awaiting_hand_over(office: Office, point: ServicePoint | None = None) -> QuerySet[CardPrint]:
    """Cards printed and not yet handed over."""
    qs = CardPrint.objects.filter(
        service_point__office=office, voided_at__isnull=True, handed_over_at__isnull=True
    )
    if point is not None:
        qs = qs.filter(service_point=point)
    return qs.select_related("resident", "blank", "service_point").order_by("printed_at")


def requests_of(office: Office) -> QuerySet[BlankRequest]:
    """The office's blank requests, newest first."""
    return BlankRequest.objects.filter(office=office).select_related("created_by", "submitted_by")


def awaits_reconciliation(reservation: PrintReservation, *, now: dt.datetime | None = None) -> bool:
    """Whether an open reservation waits for an operator to say what became of the card: its
    printer job is no longer running, or it has not answered within the setting's minutes."""
    if reservation.status != PrintReservation.Status.PRINTING:
        return False
    limit = dt.timedelta(minutes=settings.EKTP_PRINT_RECONCILE_AFTER_MINUTES)
    if reservation.reserved_at <= (now or timezone.now()) - limit:
        return True
    return jobs.is_running(reservation.pk, reservation.host) is False


@dataclass(frozen=True)
class OpenPrint:
    reservation: PrintReservation
    awaiting: bool


def open_prints(office: Office, point: ServicePoint | None = None) -> list[OpenPrint]:
    """The office's blanks on a printer now, oldest first, each marked when it awaits
    reconciliation (its job stopped or took too long) rather than still printing."""
    qs = PrintReservation.objects.filter(
        service_point__office=office, status=PrintReservation.Status.PRINTING
    )
    if point is not None:
        qs = qs.filter(service_point=point)
    qs = qs.select_related("blank", "resident", "service_point", "printer", "operator")
    now = timezone.now()
    return [OpenPrint(r, awaits_reconciliation(r, now=now)) for r in qs.order_by("reserved_at")]


def reservation_of(office: Office, reservation_id) -> PrintReservation | None:
    """Return the office's print reservation with this id, or None."""
    try:
        return (
            PrintReservation.objects.filter(pk=reservation_id, service_point__office=office)
            .select_related("blank", "resident", "service_point", "printer", "operator")
            .first()
        )
    except (ValueError, TypeError, ValidationError):
        return None


def reconciled_prints(office: Office) -> QuerySet[PrintReservation]:
    """Reservations settled on the reconciliation page, newest first."""
    return (
        PrintReservation.objects.filter(service_point__office=office, reconciled=True)
        .select_related("blank", "resident", "service_point", "resolved_by")
        .order_by("-resolved_at")
    )
