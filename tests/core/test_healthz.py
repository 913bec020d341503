"""/healthz: 200 when every check passes, 503 naming the failing check (and no secrets)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from ektp.core import worker
from ektp.core.models import WorkerHeartbeat
from ektp.dedup.engine import close_engine, get_engine

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_gallery(settings, tmp_path):
    settings.ABIS_URL = None
    settings.ABIS_DATA_DIR = str(tmp_path / "abis")
    settings.EKTP_WORKER_GONE_AFTER_SECONDS = 60
    settings.EKTP_HEALTHZ_MIN_FREE_MB = 1
    yield
    close_engine()


def _get(client):
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    return response.status_code, response.json()


def _beat(worker_id="w1", *, ago=dt.timedelta(0), abis=(True, "iris: 0")):
    at = timezone.now() - ago
    worker.beat(worker_id=worker_id, started_at=at, now=at, abis=abis)


def test_healthy_install_answers_200_with_every_check(client):
    _beat()
    status, body = _get(client)
    assert status == 200, body
    assert body["status"] == "ok" and body["failing"] == []
    assert set(body["checks"]) == {"database", "disk", "worker", "abis"}


def test_install_where_no_worker_ever_ran_is_not_failed_for_it(client):
    status, body = _get(client)
    assert status == 200, body
    assert "tidak diperiksa" in body["checks"]["worker"]["detail"]


def test_worker_silent_for_more_than_a_minute_answers_503(client):
    _beat(ago=dt.timedelta(minutes=2))
    status, body = _get(client)
    assert status == 503
    assert body["failing"] == ["worker"]
    assert "60 detik" in body["checks"]["worker"]["detail"]


def test_worker_that_stopped_on_purpose_and_none_running_answers_503(client):
    _beat()
    worker.stopped(worker_id="w1")
    status, body = _get(client)
    assert status == 503 and "worker" in body["failing"]


def test_nearly_full_disk_answers_503(client, settings):
    settings.EKTP_HEALTHZ_MIN_FREE_MB = 10**12  # more than any disk holds
    status, body = _get(client)
    assert status == 503
    assert body["failing"] == ["disk"]
    assert "hampir penuh" in body["checks"]["disk"]["detail"]


@pytest.mark.django_db(transaction=True)
def test_database_that_refuses_writes_answers_503(client):
    read_only = {
        "sqlite": ("PRAGMA query_only = ON", "PRAGMA query_only = OFF"),
        "postgresql": (
            "SET default_transaction_read_only = on",
            "SET default_transaction_read_only = off",
        ),
    }[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(read_only[0])
    try:
        status, body = _get(client)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(read_only[1])
    assert status == 503
    assert "database" in body["failing"]
    assert "tidak dapat ditulis" in body["checks"]["database"]["detail"]
    assert not WorkerHeartbeat.objects.exists()  # the probe row never stays


def test_gallery_not_loaded_in_the_worker_answers_503(client):
    _beat(abis=(False, "gallery directory locked by another process"))
    status, body = _get(client)
    assert status == 503
    assert body["failing"] == ["abis"]
    assert "locked" not in str(body)  # the worker's own error text is not published


def test_gallery_loaded_in_this_process_is_pinged(client):
    get_engine()
    status, body = _get(client)
    assert status == 200, body
    assert "proses ini" in body["checks"]["abis"]["detail"]


def test_remote_abis_out_of_reach_answers_503_without_its_address(client, settings):
    settings.ABIS_URL = "http://user:rahasia@127.0.0.1:9"
    status, body = _get(client)
    assert status == 503
    assert body["failing"] == ["abis"]
    assert "rahasia" not in str(body) and "127.0.0.1" not in str(body)


def test_remote_abis_that_answers_is_healthy(client, settings):
    from ektp.abis.service import LocalAbis, make_server

    server = make_server(LocalAbis(None))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings.ABIS_URL = server.url
        status, body = _get(client)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert status == 200, body
    assert body["checks"]["abis"]["ok"]
