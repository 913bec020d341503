"""Reading an office's card policy writes nothing: a page, a report or a GET leaves the
database as it found it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ektp.cards import forecast, selectors, services
from ektp.cards.models import CardPolicy

pytestmark = pytest.mark.django_db


def _writes(queries) -> list[str]:
    verbs = ("INSERT", "UPDATE", "DELETE")
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(verbs)]


def test_policy_for_an_office_without_one_is_the_default_and_writes_nothing(office):
    with CaptureQueriesContext(connection) as queries:
        policy = services.policy_for(office)
    assert _writes(queries.captured_queries) == []
    assert not CardPolicy.objects.exists()
    assert policy.lead_time_days == 30 and policy.target_cover_days == 90


def test_policy_for_returns_the_saved_policy(office):
    CardPolicy.objects.create(office=office, lead_time_days=12)
    assert services.policy_for(office).lead_time_days == 12
    assert selectors.card_policy(office).lead_time_days == 12


def test_the_forecast_reads_the_policy_without_saving_one(office):
    forecast.office_cover(office)
    assert not CardPolicy.objects.exists()
