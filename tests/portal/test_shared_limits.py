"""Rate-limit counters live in a cache that every web process of one install shares."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.cache import caches
from django.db import connection
from django.urls import reverse

from ektp.portal.cache import DatabaseCache
from tests.portal.factories import PortalResidentFactory

REDIS_URL = "redis://127.0.0.1:6379/0"


def check(client, nik: str, birth_date: str = "17-05-1990"):
    return client.post(reverse("portal:status"), {"nik": nik, "birth_date": birth_date})


def redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=0.5).ping())
    except Exception:
        return False


@pytest.mark.django_db
def test_default_cache_is_the_shared_database_table():
    cache = caches["default"]
    assert isinstance(cache, DatabaseCache)
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


@pytest.mark.django_db
def test_increment_keeps_the_window_expiry():
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
    errors = []

    def bump() -> None:
        try:
            cache = caches.create_connection("default")
            for _ in range(10):
                cache.incr("portal-race")
        except Exception as exc:  # surfaced in the assertion below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=bump) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert caches["default"].get("portal-race") == 80


@pytest.fixture
def redis_cache(settings):
    if not redis_up():
        pytest.skip(f"needs Redis at {REDIS_URL}")
    prefix = f"ektp-test-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield
    import redis

    server = redis.Redis.from_url(REDIS_URL)
    keys = list(server.scan_iter(f"{prefix}:*"))
    if keys:
        server.delete(*keys)


def test_redis_clients_share_counters(redis_cache):
    first, second = caches.create_connection("default"), caches.create_connection("default")
    assert first.add("portal-nik:y", 1, 60)
    assert second.incr("portal-nik:y") == 2
    assert first.get("portal-nik:y") == 2


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
        )
    finally:
        monkeypatch.delenv("REDIS_URL", raising=False)
        monkeypatch.delenv("CACHE_URL", raising=False)
        importlib.reload(ektp.settings)
