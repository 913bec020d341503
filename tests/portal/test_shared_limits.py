"""Rate-limit counters live in a cache that every web process of one install shares."""

from __future__ import annotations

import importlib
import threading

import pytest
from diskcache import DjangoCache
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

import ektp.settings
from tests.portal.factories import PortalResidentFactory
from tests.threads import run_in_threads


def check(client, nik: str, birth_date: str = "17-05-1990"):
    return client.post(reverse("portal:status"), {"nik": nik, "birth_date": birth_date})


@pytest.mark.django_db
def test_default_cache_is_the_host_cache_on_either_database():
    assert isinstance(caches["default"], DjangoCache)


@pytest.mark.django_db
def test_two_cache_clients_count_the_same_key():
    first, second = caches.create_connection("default"), caches.create_connection("default")
    assert first is not second
    assert first.add("portal-nik:x", 1, 3600)
    assert not second.add("portal-nik:x", 1, 3600)
    assert second.incr("portal-nik:x") == 2
    assert first.incr("portal-nik:x") == 3
    assert second.get("portal-nik:x") == 3


@pytest.mark.django_db
def test_increment_of_a_missing_or_expired_key_fails_like_django():
    cache = caches["default"]
    with pytest.raises(ValueError):
        cache.incr("portal-missing")
    cache.set("portal-old", 1, -1)
    with pytest.raises(ValueError):
        cache.incr("portal-old")


@pytest.mark.django_db
def test_add_replaces_only_an_expired_value():
    cache = caches["default"]
    assert cache.add("portal-add", 1, 3600)
    assert not cache.add("portal-add", 5, 3600)
    assert cache.get("portal-add") == 1
    cache.set("portal-add", 2, -1)
    assert cache.get("portal-add") is None
    assert cache.add("portal-add", 7, 3600)
    assert cache.get("portal-add") == 7


@pytest.mark.django_db(transaction=True)
def test_tries_counted_by_other_workers_block_the_next_one(client, settings):
    """Each thread has its own database connection and cache client, as a worker would."""
    settings.PORTAL_RATE_PER_NIK = "3/h"
    resident = PortalResidentFactory()
    from django.test import Client

    statuses = []

    def one_try(day: str) -> None:
        statuses.append(check(Client(), resident.nik, day).status_code)
        connection.close()

    for day in ("01-01-1990", "02-01-1990", "03-01-1990"):
        worker = threading.Thread(target=one_try, args=(day,))
        worker.start()
        worker.join()
    assert statuses == [200, 200, 200]
    blocked = check(client, resident.nik)
    assert blocked.status_code == 429
    assert "coba lagi nanti" in blocked.content.decode().lower()


@pytest.mark.django_db
def test_concurrent_add_then_incr_counts_every_try():
    """The rate limiter's pattern (add 1, else incr) from threads: no count lost or doubled."""
    counts = []

    def tries() -> None:
        cache = caches.create_connection("default")
        for _ in range(10):
            if cache.add("portal-burst", 1, 3600):
                counts.append(1)
            else:
                counts.append(cache.incr("portal-burst"))

    assert run_in_threads(tries, 8) == []
    assert sorted(counts) == list(range(1, 81))
    assert caches["default"].get("portal-burst") == 80


@pytest.fixture
def database_cache(settings, db):
    """The default cache in Django's database table (EKTP_CACHE=database), emptied. `migrate`
    made no table for it (the tests' cache is the host's): it is made here."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "ektp_cache",
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    }
    call_command("createcachetable", verbosity=0)
    caches["default"].clear()


def test_limit_with_the_database_cache_answers_try_again_later(client, settings, database_cache):
    settings.PORTAL_RATE_PER_NIK = "2/h"
    resident = PortalResidentFactory()
    assert check(client, resident.nik, "01-01-1990").status_code == 200
    assert check(client, resident.nik, "02-01-1990").status_code == 200
    blocked = check(client, resident.nik)
    assert blocked.status_code == 429
    assert "coba lagi nanti" in blocked.content.decode().lower()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM ektp_cache")
        assert cursor.fetchone()[0] >= 2  # the client's and the NIK's counters


def test_settings_choose_redis_from_the_environment(monkeypatch):
    monkeypatch.delenv("EKTP_CACHE", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    try:
        reloaded = importlib.reload(ektp.settings)
        assert reloaded.CACHES["default"]["BACKEND"] == (
            "django.core.cache.backends.redis.RedisCache"
        )
        assert reloaded.CACHES["default"]["LOCATION"] == "redis://127.0.0.1:6379/3"
        monkeypatch.delenv("REDIS_URL")
        monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:6379/4")
        assert importlib.reload(ektp.settings).CACHES["default"]["LOCATION"].endswith("/4")
        monkeypatch.setenv("CACHE_URL", "memcached://x")
        assert importlib.reload(ektp.settings).CACHES["default"]["BACKEND"] == (
            "ektp.core.ratelimit.HostCache"
        )
    finally:
        monkeypatch.undo()
        importlib.reload(ektp.settings)


@pytest.mark.parametrize(
    ("database_url", "chosen", "backend"),
    [
        ("", "", "ektp.core.ratelimit.HostCache"),
        ("postgres://postgres@127.0.0.1:5432/x", "", "ektp.core.ratelimit.HostCache"),
        ("postgres://postgres@127.0.0.1:5432/x", "host", "ektp.core.ratelimit.HostCache"),
        ("postgres://postgres@127.0.0.1:5432/x", " Host ", "ektp.core.ratelimit.HostCache"),
        ("", "database", "django.core.cache.backends.db.DatabaseCache"),
        (
            "postgres://postgres@127.0.0.1:5432/x",
            "database",
            "django.core.cache.backends.db.DatabaseCache",
        ),
    ],
)
def test_settings_choose_the_cache_as_told_and_the_host_cache_by_default(
    monkeypatch, database_url, chosen, backend
):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("CACHE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("EKTP_CACHE", chosen)
    monkeypatch.setenv("EKTP_CACHE_DIR", "/srv/ektp/cache")
    try:
        caches_chosen = importlib.reload(ektp.settings).CACHES["default"]
        assert caches_chosen["BACKEND"] == backend
        if backend == "ektp.core.ratelimit.HostCache":
            assert caches_chosen["LOCATION"] == "/srv/ektp/cache"
    finally:
        monkeypatch.undo()
        importlib.reload(ektp.settings)


@pytest.mark.parametrize("chosen", ["redis", "memcached", "lokal"])
def test_settings_refuse_a_cache_they_cannot_make(monkeypatch, chosen):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("CACHE_URL", raising=False)
    monkeypatch.setenv("EKTP_CACHE", chosen)
    try:
        with pytest.raises(ImproperlyConfigured, match="EKTP_CACHE"):
            importlib.reload(ektp.settings)
    finally:
        monkeypatch.undo()
        importlib.reload(ektp.settings)
