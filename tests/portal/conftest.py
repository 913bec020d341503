"""Fixtures for the portal: suket keys in a temporary directory (tests/conftest.py empties the
cache), and the Redis cache for the tests of the shared counters."""

from __future__ import annotations

import uuid

import pytest

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def portal_key_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("portal-suket-keys")


@pytest.fixture(autouse=True)
def _suket_keys(settings, portal_key_dir):
    settings.EKTP_SUKET_QR_KEY = str(portal_key_dir / "qr.pem")
    settings.EKTP_SUKET_SIGNING_KEY = str(portal_key_dir / "key.pem")
    settings.EKTP_SUKET_SIGNING_CERT = str(portal_key_dir / "cert.pem")


def redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=0.5).ping())
    except Exception:
        return False


@pytest.fixture
def redis_cache(settings):
    """The default cache on Redis under a key prefix of its own, emptied afterwards."""
    if not redis_up():
        pytest.skip(f"needs Redis at {REDIS_URL}")
    prefix = f"ektp-test-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "ektp.portal.cache.RedisCache",
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


@pytest.fixture
def database_cache(settings, db):
    """The default cache in the database table (the default on PostgreSQL), emptied. On
    SQLite `migrate` made no table for it: it is made here, inside the test's transaction."""
    from django.core.cache import caches

    from ektp.portal.cache import create_cache_table

    settings.CACHES = {
        "default": {
            "BACKEND": "ektp.portal.cache.DatabaseCache",
            "LOCATION": "ektp_cache",
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    }
    create_cache_table()
    caches["default"].clear()


@pytest.fixture
def host_cache(settings, tmp_path):
    """The default cache in an LMDB file of its own (the default on SQLite)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "ektp.portal.hostcache.HostCache",
            "LOCATION": str(tmp_path / "host-cache"),
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    }
