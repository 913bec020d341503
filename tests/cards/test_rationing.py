"""Under shortage the queue is ordered by the policy and capped to last until the delivery."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ektp.cards import rationing, selectors, services
from ektp.cards.models import CardPolicy, ReprintRequest
from ektp.residents.models import KtpStatus
from tests.cards.factories import PrrResidentFactory
from tests.residents.factories import ResidentFactory


def holder(**kw):
    return ResidentFactory(ktp_status=KtpStatus.CARD_ISSUED, recorded_on=dt.date(2015, 1, 1), **kw)


@pytest.fixture
def short_office(office, stocked_point):
    """Five blanks at the UPT, five in the store, and a backlog larger than the stock."""
    for _ in range(12):
        PrrResidentFactory()
    return office


def test_without_shortage_nothing_is_capped(office, stocked_point, operator):
    PrrResidentFactory()
    q = selectors.print_queue(office)
    items, state = q.items, q.shortage
    assert not state.short
    assert [i.decision for i in items] == ["cetak"]


def test_default_order_puts_new_and_first_voters_before_data_changes_lost_and_damaged(
    short_office, operator
):
    today = timezone.localdate()
    CardPolicy.objects.create(office=short_office, election_date=today + dt.timedelta(days=60))
    voter = PrrResidentFactory(birth_date=dt.date(today.year - 18, 1, 1), recorded_on=today)
    damaged = services.create_reprint_request(resident=holder(), reason="rusak", actor=operator)
    usable = services.create_reprint_request(
        resident=holder(), reason="rusak", actor=operator, old_card_usable=True
    )
    lost = services.create_reprint_request(resident=holder(), reason="hilang", actor=operator)
    moved = services.create_reprint_request(resident=holder(), reason="pindah", actor=operator)
    q = selectors.print_queue(short_office)
    items, state = q.items, q.shortage
    assert state.short
    cats = [i.category for i in items]
    assert cats[0] == "first_voter" and items[0].resident == voter
    assert cats.index("data_change") > cats.index("new")
    order = [i.request for i in items if i.request is not None]
    assert order == [moved, lost, damaged, usable]
    assert items[-1].decision == "tunda" and "masih dapat dipakai" in items[-1].note


def test_queue_is_capped_to_the_daily_allowance(short_office):
    q = selectors.print_queue(short_office)
    items, state = q.items, q.shortage
    # 10 blanks over 30 days: at least one card a day, no more than the stock allows
    assert state.daily_allowance == 1
    assert [i.decision for i in items].count("cetak") == 1
    assert items[1].decision == "menunggu_jatah"


def test_print_beyond_the_allowance_is_deferred_with_the_reason(
    short_office, stocked_point, printer, operator
):
    first, second = [i.resident for i in selectors.print_queue(short_office).items[:2]]
    services.print_card(
        request_or_resident=first, service_point=stocked_point, printer=printer, operator=operator
    )
    with pytest.raises(services.PrintDeferred, match="Jatah cetak hari ini"):
        services.print_card(
            request_or_resident=second,
            service_point=stocked_point,
            printer=printer,
            operator=operator,
        )
    second.refresh_from_db()
    assert second.ktp_status == KtpStatus.PRINT_READY_RECORD


def test_a_rationed_print_counts_the_day_s_cards_once_under_the_office_lock(
    short_office, stocked_point, printer, operator
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = selectors.print_queue(short_office).items[0].resident
    rationing.shortage(short_office)  # judged (and kept for a minute) before the print
    with CaptureQueriesContext(connection) as queries:
        services.print_card(
            request_or_resident=first,
            service_point=stocked_point,
            printer=printer,
            operator=operator,
        )
    sql = [q["sql"] for q in queries]
    counts = [i for i, q in enumerate(sql) if "COUNT(" in q and "cards_cardprint" in q]
    locks = [i for i, q in enumerate(sql) if "FOR UPDATE" in q and "offices_office" in q]
    assert len(counts) == 1
    if connection.features.has_select_for_update:  # SQLite has no FOR UPDATE
        assert locks and locks[0] < counts[0]


def test_damaged_but_usable_is_deferred_and_the_resident_is_told_why(
    short_office, stocked_point, printer, operator
):
    request = services.create_reprint_request(
        resident=holder(), reason="rusak", actor=operator, old_card_usable=True
    )
    with pytest.raises(services.PrintDeferred, match="masih dapat"):
        services.print_card(
            request_or_resident=request,
            service_point=stocked_point,
            printer=printer,
            operator=operator,
        )
    request.refresh_from_db()
    assert request.status == ReprintRequest.Status.DEFERRED
    assert "kartu lama Anda masih dapat dipakai" in request.deferral_reason


def test_policy_order_is_configurable(short_office, operator):
    CardPolicy.objects.create(office=short_office, priority_order=["lost", "new"])
    lost = services.create_reprint_request(resident=holder(), reason="hilang", actor=operator)
    q = selectors.print_queue(short_office)
    items, _ = q.items, q.shortage
    assert items[0].request == lost


def test_defer_usable_requests_marks_them_under_shortage(short_office, operator):
    request = services.create_reprint_request(
        resident=holder(), reason="rusak", actor=operator, old_card_usable=True
    )
    assert rationing.defer_usable_requests(office=short_office) == 1
    request.refresh_from_db()
    assert request.status == ReprintRequest.Status.DEFERRED


def test_unknown_categories_in_the_policy_are_ignored(office):
    policy = CardPolicy(office=office, priority_order=["bogus", "damaged"])
    assert rationing.priority_order(policy)[0] == "damaged"
    assert len(rationing.priority_order(policy)) == len(rationing.DEFAULT_ORDER)
