"""The timeline page follows penunggalan: its JSON says queued until the outcome is written."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ektp.core.models import Role
from ektp.enrollment import services
from ektp.enrollment.models import Enrollment
from ektp.residents.models import KtpStatus
from tests.enrollment.factories import record

pytestmark = pytest.mark.django_db

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def sent(operator, settings):
    settings.TASKS = DUMMY
    enrollment = record(operator)
    services.send_for_penunggalan(resident=enrollment.resident, actor=operator)
    return Enrollment.objects.select_related("resident").get(pk=enrollment.pk)


def _json(client, resident):
    response = client.get(reverse("enrollment:penunggalan", args=[resident.nik]))
    assert response.status_code == 200
    return response.json()


def test_a_sent_recording_waits_in_the_queue(operator_client, sent):
    data = _json(operator_client, sent.resident)
    assert data["state"] == "queued" and data["state_label"] == "Dalam antrean"
    assert data["status_label"] == "Menunggu penunggalan" and data["code"] == "SENT_FOR_ENROLLMENT"
    assert not data["finished"] and data["percent"] is None


def test_the_timeline_page_polls_while_the_recording_waits(operator_client, sent):
    page = operator_client.get(reverse("enrollment:history", args=[sent.resident.nik]))
    html = page.content.decode()
    assert reverse("enrollment:penunggalan", args=[sent.resident.nik]) in html
    assert "ektp/progress.js" in html and 'title="SIAK: SENT_FOR_ENROLLMENT"' in html


def test_awaiting_the_engine_is_said_in_words(operator_client, sent):
    services.mark_awaiting_engine(enrollment_id=sent.pk)
    data = _json(operator_client, sent.resident)
    assert data["state"] == "queued" and data["state_label"] == "Menunggu mesin penunggalan"
    assert "belum terpasang" in data["message"]


def test_the_outcome_ends_the_wait(operator_client, sent):
    services.complete_penunggalan(
        enrollment=sent, outcome=KtpStatus.PRINT_READY_RECORD, actor=None, reason="Unik"
    )
    data = _json(operator_client, sent.resident)
    assert data["state"] == "done" and data["finished"] and data["percent"] == 100
    assert data["status_label"] == "Siap cetak" and data["code"] == "PRINT_READY_RECORD"
    assert data["state_label"] == "Selesai" and data["message"] == "Unik"
    page = operator_client.get(reverse("enrollment:history", args=[sent.resident.nik]))
    assert "data-progress-url" not in page.content.decode()


def test_a_failed_penunggalan_ends_failed(operator_client, sent):
    services.complete_penunggalan(
        enrollment=sent, outcome=KtpStatus.ENROLL_FAILURE, actor=None, reason="Templat ditolak"
    )
    data = _json(operator_client, sent.resident)
    assert data["state"] == "failed" and data["finished"] and data["status_label"] == "Gagal rekam"


def test_a_resident_outside_the_jurisdiction_is_not_found(client, make_staff, sent):
    client.force_login(make_staff(Role.OPERATOR, region="18.01", username="op-lambar"))
    response = client.get(reverse("enrollment:penunggalan", args=[sent.resident.nik]))
    assert response.status_code == 404
