"""Rate-limit counters live in a cache that every web process of one install shares."""

from __future__ import annotations

import os
import threading

import pytest
from django.core.cache import caches
from django.db import connection
from django.urls import reverse

from ektp.portal.cache import DatabaseCache
from ektp.portal.hostcache import HostCache
from tests.portal.conftest import REDIS_URL
from tests.portal.factories import PortalResidentFactory
from tests.threads import run_in_threads


def check(client, nik: str, birth_date: str = "17-05-1990"):
    return client.post(reverse("portal:status"), {"nik": nik, "birth_date": birth_date})


@pytest.mark.django_db
def test_default_cache_is_the_host_file_on_sqlite_and_the_database_table_elsewhere():
    cache = caches["default"]
    expected = HostCache if connection.vendor == "sqlite" else DatabaseCache
    assert isinstance(cache, expected)


def test_the_database_table_holds_what_is_set(database_cache):
    cache = caches["default"]
    cache.set("portal-probe", 1, 60)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM ektp_cache")
        assert cursor.fetchone()[0] == 1


@pytest.mark.django_db
def test_two_cache_clients_count_the_same_key():
    first, second = caches.create_connection("default"), caches.create_connection("default")
    assert first is not second
    assert first.add("portal-nik:x", 1, 3600)
    assert not second.add("portal-nik:x", 1, 3600)
    assert second.incr("portal-nik:x") == 2
    assert first.incr("portal-nik:x") == 3
    assert second.get("portal-nik:x") == 3


def test_increment_keeps_the_window_expiry(database_cache):
    cache = caches["default"]
    cache.add("portal-window", 1, 3600)
    cache.incr("portal-window")
    with connection.cursor() as cursor:
        cursor.execute("SELECT expires FROM ektp_cache WHERE cache_key LIKE %s", ["%portal-window"])
        expires = cursor.fetchone()[0]
    cache.incr("portal-window")
    with connection.cursor() as cursor:
        cursor.execute("SELECT expires FROM ektp_cache WHERE cache_key LIKE %s", ["%portal-window"])
        assert cursor.fetchone()[0] == expires


@pytest.mark.django_db
def test_increment_of_a_missing_or_expired_key_fails_like_django():
    cache = caches["default"]
    with pytest.raises(ValueError):
        cache.incr("portal-missing")
    cache.set("portal-old", 1, -1)
    with pytest.raises(ValueError):
        cache.incr("portal-old")


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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_increments_lose_no_count():
    caches["default"].add("portal-race", 0, 3600)

    def bump() -> None:
        cache = caches.create_connection("default")
        for _ in range(10):
            cache.incr("portal-race")

    assert run_in_threads(bump, 8) == []
    assert caches["default"].get("portal-race") == 80


def test_redis_clients_share_counters(redis_cache):
    first, second = caches.create_connection("default"), caches.create_connection("default")
    assert first.add("portal-nik:y", 1, 60)
    assert second.incr("portal-nik:y") == 2
    assert first.get("portal-nik:y") == 2
    assert first.incr("portal-nik:y", 3) == 5


def test_redis_increment_of_a_missing_key_fails_and_keeps_the_expiry(redis_cache):
    import redis

    cache = caches["default"]
    with pytest.raises(ValueError):
        cache.incr("portal-nowhere")
    assert cache.get("portal-nowhere") is None
    cache.add("portal-ttl", 1, 600)
    cache.incr("portal-ttl")
    key = cache.make_and_validate_key("portal-ttl")
    assert 0 < redis.Redis.from_url(REDIS_URL).ttl(key) <= 600


@pytest.mark.django_db
def test_limit_with_redis_answers_try_again_later(client, settings, redis_cache):
    settings.PORTAL_RATE_PER_NIK = "2/h"
    resident = PortalResidentFactory()
    assert check(client, resident.nik, "01-01-1990").status_code == 200
    assert check(client, resident.nik, "02-01-1990").status_code == 200
    blocked = check(client, resident.nik)
    assert blocked.status_code == 429
    assert "coba lagi nanti" in blocked.content.decode().lower()


def test_settings_choose_redis_from_the_environment(monkeypatch):
    import importlib

    import ektp.settings

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    try:
        reloaded = importlib.reload(ektp.settings)
        assert reloaded.CACHES["default"]["BACKEND"].endswith("RedisCache")
        assert reloaded.CACHES["default"]["LOCATION"] == "redis://127.0.0.1:6379/3"
        monkeypatch.delenv("REDIS_URL")
        monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:6379/4")
        assert importlib.reload(ektp.settings).CACHES["default"]["LOCATION"].endswith("/4")
        monkeypatch.setenv("CACHE_URL", "memcached://x")
        assert importlib.reload(ektp.settings).CACHES["default"]["BACKEND"] == (
            "ektp.portal.cache.DatabaseCache"
            if os.environ.get("DATABASE_URL")
            else "ektp.portal.hostcache.HostCache"
        )
    finally:
        monkeypatch.delenv("REDIS_URL", raising=False)
        monkeypatch.delenv("CACHE_URL", raising=False)
        importlib.reload(ektp.settings)


@pytest.mark.parametrize(
    ("database_url", "chosen", "backend"),
    [
        ("", "", "ektp.portal.hostcache.HostCache"),
        ("postgres://postgres@127.0.0.1:5432/x", "", "ektp.portal.cache.DatabaseCache"),
        ("postgres://postgres@127.0.0.1:5432/x", "host", "ektp.portal.hostcache.HostCache"),
        ("postgres://postgres@127.0.0.1:5432/x", " Host ", "ektp.portal.hostcache.HostCache"),
        ("", "database", "ektp.portal.cache.DatabaseCache"),
    ],
)
def test_settings_choose_the_cache_by_database_or_as_told(
    monkeypatch, database_url, chosen, backend
):
    import importlib

    import ektp.settings

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("CACHE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("EKTP_CACHE", chosen)
    monkeypatch.setenv("EKTP_CACHE_DIR", "/srv/ektp/cache")
    try:
        caches_chosen = importlib.reload(ektp.settings).CACHES["default"]
        assert caches_chosen["BACKEND"] == backend
        if backend.endswith("HostCache"):
            assert caches_chosen["LOCATION"] == "/srv/ektp/cache"
    finally:
        monkeypatch.undo()
        importlib.reload(ektp.settings)


@pytest.mark.parametrize("chosen", ["redis", "memcached", "lokal"])
def test_settings_refuse_a_cache_they_cannot_make(monkeypatch, chosen):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import ektp.settings

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("CACHE_URL", raising=False)
    monkeypatch.setenv("EKTP_CACHE", chosen)
    try:
        with pytest.raises(ImproperlyConfigured, match="EKTP_CACHE"):
            importlib.reload(ektp.settings)
    finally:
        monkeypatch.undo()
        importlib.reload(ektp.settings)


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


def test_values_other_than_integers_round_trip_and_pickled_integers_still_count(database_cache):
    cache = caches["default"]
    cache.set("portal-obj", {"a": [1, "#2"]}, 60)
    assert cache.get("portal-obj") == {"a": [1, "#2"]}
    cache.set("portal-text", "#7", 60)
    assert cache.get("portal-text") == "#7"
    cache.set("portal-flag", True, 60)
    assert cache.get("portal-flag") is True
    # A value written pickled by Django's own DatabaseCache is still incremented.
    from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache

    DjangoDatabaseCache("ektp_cache", {}).set("portal-old-int", 4, 60)
    assert cache.incr("portal-old-int", 3) == 7
    assert cache.get("portal-old-int") == 7
    assert cache.incr("portal-old-int") == 8


def _rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM ektp_cache")
        return cursor.fetchone()[0]


def test_culling_still_bounds_the_table(database_cache):
    cache = DatabaseCache(
        "ektp_cache", {"OPTIONS": {"MAX_ENTRIES": 20, "CULL_FREQUENCY": 2, "CULL_EVERY": 5}}
    )
    for number in range(200):
        cache.add(f"portal-cull-{number}", 1, 3600)
        assert _rows() <= 20 + 5
    for number in range(200):
        cache.set(f"portal-cull-set-{number}", 1, 3600)
        assert _rows() <= 20 + 5


def test_culling_drops_expired_rows_first(database_cache):
    cache = DatabaseCache("ektp_cache", {"OPTIONS": {"MAX_ENTRIES": 10, "CULL_EVERY": 1}})
    for number in range(10):
        cache.set(f"portal-gone-{number}", 1, -1)
    cache.add("portal-live-a", 1, 3600)
    cache.add("portal-live-b", 1, 3600)
    assert cache.get("portal-live-a") == 1
    assert cache.get("portal-live-b") == 1
    assert _rows() <= 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
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
