"""Days of cover, the alert against the lead time, and the request letter."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ektp.cards import forecast, services
from ektp.cards.models import BlankRequest, CardPolicy, LedgerEntry
from tests.cards.factories import PrrResidentFactory


def consumed(office, operator, per_day: int, days: int = forecast.SERVICE_DAYS, point=None):
    """Cards printed on each of the last `days` service days."""
    for day in forecast.service_days_before(timezone.localdate(), days):
        LedgerEntry.objects.create(
            kind=LedgerEntry.Kind.CONSUMPTION,
            office=office,
            from_point=point,
            quantity=per_day,
            actor=operator,
            at=timezone.make_aware(dt.datetime.combine(day, dt.time(10))),
        )


def test_cover_below_the_next_delivery_raises_the_alert_and_sizes_the_request(
    office, receive, operator
):
    receive("180926000001", "180926000100")
    consumed(office, operator, per_day=10)
    cover = forecast.office_cover(office)
    assert cover.on_hand == 100
    assert cover.consumption_rate == pytest.approx(10)
    assert cover.days_of_cover == pytest.approx(10)
    assert cover.alert  # 30 days' lead time is some 20 service days
    days = cover.days_to_next_delivery
    assert cover.suggested_request == 10 * (days + 90) - 100


def test_lead_time_is_configurable_per_office(office, receive, operator):
    receive("180926000001", "180926000100")
    consumed(office, operator, per_day=10)
    CardPolicy.objects.create(office=office, lead_time_days=7, target_cover_days=30)
    cover = forecast.office_cover(office)
    assert cover.days_to_next_delivery <= 7
    assert not cover.alert
    assert cover.suggested_request == max(10 * (cover.days_to_next_delivery + 30) - 100, 0)


def test_stale_backlog_is_flagged_while_printing_is_not_rationed(office, receive):
    receive("180926000001", "180926000100")
    for _ in range(3):
        PrrResidentFactory(recorded_on=timezone.localdate() - dt.timedelta(days=5))
    cover = forecast.office_cover(office)
    assert cover.backlog == 3 and cover.stale_backlog == 3
    assert not cover.alert and cover.backlog_flag
    assert cover.recording_rate > 0


def test_no_stock_and_a_backlog_means_zero_cover(office):
    PrrResidentFactory()
    cover = forecast.office_cover(office)
    assert cover.days_of_cover == 0 and cover.alert and not cover.backlog_flag


def test_cover_per_point_counts_the_point_stock_and_use_only(office, stocked_point, operator):
    consumed(office, operator, per_day=1, point=stocked_point)
    (row,) = forecast.cover_by_point(office)
    assert row.on_hand == 5 and row.consumption_rate == pytest.approx(1)
    assert row.days_of_cover == pytest.approx(5)


def test_draft_request_carries_the_figures_and_only_the_head_submits(
    office, receive, operator, supervisor
):
    receive("180926000001", "180926000100")
    consumed(office, operator, per_day=10)
    expected = forecast.office_cover(office).suggested_request
    draft = services.draft_blank_request(office=office, actor=operator)
    assert draft.status == BlankRequest.Status.DRAFT
    assert draft.quantity == expected and draft.figures["on_hand"] == 100
    assert draft.figures["consumption_rate"] == 10
    with pytest.raises(services.CardsError, match="kepala dinas"):
        services.submit_blank_request(request=draft, actor=operator)
    services.submit_blank_request(request=draft, actor=supervisor)
    draft.refresh_from_db()
    assert draft.status == BlankRequest.Status.SUBMITTED and draft.submitted_by == supervisor
    with pytest.raises(services.CardsError, match="sudah diajukan"):
        services.submit_blank_request(request=draft, actor=supervisor)
    assert forecast.office_cover(office).outstanding_requested == expected


def test_no_request_when_cover_is_enough(office, receive, operator):
    receive("180926000001", "180926000100")
    with pytest.raises(services.StockInvalid, match="tidak perlu"):
        services.draft_blank_request(office=office, actor=operator)


def test_receipts_are_matched_to_the_request(office, receive, operator, supervisor):
    receive("180926000001", "180926000100")
    consumed(office, operator, per_day=10)
    request = services.draft_blank_request(office=office, actor=operator)
    with pytest.raises(services.StockInvalid, match="Draf"):
        receive("180926001001", "180926001500", request=request, reference="K-1")
    services.submit_blank_request(request=request, actor=supervisor)
    receive("180926001001", "180926001500", request=request, reference="K-1")
    request.refresh_from_db()
    assert request.status == BlankRequest.Status.PARTIALLY_DELIVERED
    assert request.delivered_quantity == 500
    rest = request.quantity - 500
    receive("180926002001", f"18092600{2000 + rest:04d}", request=request, reference="K-2")
    request.refresh_from_db()
    assert request.status == BlankRequest.Status.DELIVERED
    assert request.receipts.count() == 2
