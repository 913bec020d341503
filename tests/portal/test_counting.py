"""Counting one try in several rate windows at once: the caches, the limits, the form, the view."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import OperationalError, connection, models
from django.http import QueryDict
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_ratelimit.core import get_usage

from ektp.core.prepared import Read, statement
from ektp.portal import limits
from ektp.portal.cache import DatabaseCache, RedisCache, count_hits, count_hits_then_read
from ektp.portal.forms import InquiryForm
from ektp.portal.hostcache import HEADER, HostCache
from tests.portal.conftest import REDIS_URL
from tests.threads import run_in_threads

NIK = "1809015705900001"


# One cache of each kind, seen through what the tests need: how to count, when a key expires
# (an absolute time in seconds since the epoch) and how to make a key expire now.


class Counting:
    def __init__(self, cache):
        self.cache = cache

    def count(self, windows):
        return self.cache.count_hits(windows)

    def deadline(self, key: str) -> float:
        raise NotImplementedError

    def expire_now(self, key: str) -> None:
        raise NotImplementedError


class DatabaseCounting(Counting):
    def _raw_expires(self, key: str):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT expires FROM ektp_cache WHERE cache_key = %s", [self.cache.make_key(key)]
            )
            return cursor.fetchone()[0]

    def deadline(self, key: str) -> float:
        expires = self._raw_expires(key)
        expression = models.Expression(output_field=models.DateTimeField())
        converters = connection.ops.get_db_converters(expression)
        for converter in converters + expression.get_db_converters(connection):
            expires = converter(expires, expression, connection)
        return expires.timestamp()

    def expire_now(self, key: str) -> None:
        past = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE ektp_cache SET expires = %s WHERE cache_key = %s",
                [connection.ops.adapt_datetimefield_value(past), self.cache.make_key(key)],
            )
            assert cursor.rowcount == 1


class RedisCounting(Counting):
    def __init__(self, cache):
        super().__init__(cache)
        import redis

        self.server = redis.Redis.from_url(REDIS_URL)

    def deadline(self, key: str) -> float:
        return self.server.expiretime(self.cache.make_key(key))  # -1: no expiry, -2: no key

    def expire_now(self, key: str) -> None:
        full = self.cache.make_key(key)
        assert self.server.pexpire(full, 1)
        while self.server.exists(full):  # Redis drops the key once the millisecond is over
            time.sleep(0.005)


class HostCounting(Counting):
    def _header(self, key: str) -> tuple[float, int]:
        raw_key = self.cache._key(key, None)
        return self.cache._run(lambda txn: HEADER.unpack_from(txn.get(raw_key)))

    def deadline(self, key: str) -> float:
        return self._header(key)[0]

    def expire_now(self, key: str) -> None:
        raw_key = self.cache._key(key, None)

        def expire(txn) -> None:
            stored = txn.get(raw_key)
            kind = HEADER.unpack_from(stored)[1]
            txn.put(raw_key, HEADER.pack(time.time() - 3600, kind) + stored[HEADER.size :])

        self.cache._run(expire)


class LocMemCounting(Counting):
    """Django's local-memory cache has no count_hits: the module function adds, then increments."""

    def count(self, windows):
        return count_hits(self.cache, windows)

    def deadline(self, key: str) -> float:
        return self.cache._expire_info[self.cache.make_key(key)]

    def expire_now(self, key: str) -> None:
        self.cache._expire_info[self.cache.make_key(key)] = time.time() - 3600


@pytest.fixture(
    params=[pytest.param("database", marks=pytest.mark.django_db), "host", "redis", "locmem"]
)
def counting(request, settings) -> Counting:
    if request.param == "database":
        request.getfixturevalue("database_cache")
        cache = caches["default"]
        assert isinstance(cache, DatabaseCache)
        return DatabaseCounting(cache)
    if request.param == "host":
        request.getfixturevalue("host_cache")
        cache = caches["default"]
        assert isinstance(cache, HostCache)
        return HostCounting(cache)
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
        cache = caches.create_connection("default")
        assert isinstance(cache, RedisCache)
        return RedisCounting(cache)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"counting-{uuid.uuid4().hex}",
        }
    }
    cache = caches.create_connection("default")
    assert isinstance(cache, LocMemCache)
    assert not hasattr(cache, "count_hits")
    return LocMemCounting(cache)


# 1. count_hits on each cache ----------------------------------------------------------------


def test_fresh_keys_start_at_one_and_count_up(counting):
    windows = [("hits-ip", 3600, 100), ("hits-nik", 3600, 100)]
    assert counting.count(windows) == [1, 1]
    assert counting.count(windows) == [2, 2]
    assert counting.count(windows[:1]) == [3]
    assert counting.count(windows) == [4, 3]
    assert counting.cache.get("hits-ip") == 4
    assert counting.cache.get("hits-nik") == 3
    assert type(counting.cache.get("hits-ip")) is int


def test_no_window_counts_nothing(counting):
    assert counting.count([]) == []


def test_windows_after_the_first_one_over_its_limit_are_not_counted(counting):
    windows = [("over-ip", 3600, 2), ("over-nik", 3600, 100)]
    assert counting.count(windows) == [1, 1]
    assert counting.count(windows) == [2, 2]
    assert counting.count(windows) == [3]  # over the first limit: the second is left alone
    assert counting.count(windows) == [4]
    assert counting.cache.get("over-ip") == 4
    assert counting.cache.get("over-nik") == 2


def test_a_later_window_over_its_limit_is_counted_and_said(counting):
    windows = [("late-ip", 3600, 100), ("late-nik", 3600, 1), ("late-third", 3600, 100)]
    assert counting.count(windows) == [1, 1, 1]
    assert counting.count(windows) == [2, 2]
    assert counting.cache.get("late-third") == 1


def test_increments_keep_the_expiry(counting):
    assert counting.count([("keep", 3600, 100)]) == [1]
    deadline = counting.deadline("keep")
    assert deadline > time.time() + 1800
    # A later hit with another timeout still ends where the window began to end.
    assert counting.count([("keep", 7200, 100)]) == [2]
    assert counting.deadline("keep") == deadline
    assert counting.count([("keep", 7200, 100)]) == [3]
    assert counting.deadline("keep") == deadline


def test_an_expired_counter_restarts_at_one_with_a_new_expiry(counting):
    assert counting.count([("stale", 60, 100)]) == [1]
    assert counting.count([("stale", 60, 100)]) == [2]
    counting.expire_now("stale")
    assert counting.cache.get("stale") is None
    assert counting.count([("stale", 7200, 100)]) == [1]
    assert counting.deadline("stale") > time.time() + 3600
    assert counting.cache.get("stale") == 1


def test_an_expired_counter_over_its_limit_does_not_stop_the_next_window(counting):
    windows = [("old-ip", 3600, 1), ("old-nik", 3600, 100)]
    assert counting.count(windows) == [1, 1]
    assert counting.count(windows) == [2]
    counting.expire_now("old-ip")
    assert counting.count(windows) == [1, 2]


def test_a_value_that_is_not_a_counter_is_replaced_by_one(counting):
    counting.cache.set("text", "teks", 3600)
    assert counting.count([("text", 3600, 100), ("text-next", 3600, 100)]) == [1, 1]
    assert counting.cache.get("text") == 1
    assert counting.count([("text", 3600, 100)]) == [2]


def test_a_counter_replacing_text_gets_the_window_expiry(counting):
    counting.cache.set("text-expiry", {"bukan": "angka"}, None)  # never expires
    assert counting.count([("text-expiry", 7200, 100)]) == [1]
    assert time.time() + 3600 < counting.deadline("text-expiry") < time.time() + 7300


def test_module_function_uses_the_cache_own_counting(db):
    cache = caches["default"]
    windows = [("both-ip", 3600, 100), ("both-nik", 3600, 100)]
    assert count_hits(cache, windows) == [1, 1]
    assert cache.count_hits(windows) == [2, 2]
    assert count_hits(cache, windows) == [3, 3]


def test_database_counters_are_shared_between_cache_clients(database_cache):
    first, second = caches.create_connection("default"), caches.create_connection("default")
    assert first is not second
    assert first.count_hits([("shared", 3600, 100)]) == [1]
    assert second.count_hits([("shared", 3600, 100)]) == [2]
    assert first.get("shared") == 2
    # The counters are ordinary integers to the other methods of the cache.
    assert second.incr("shared") == 3
    assert first.count_hits([("shared", 3600, 100)]) == [4]


def test_redis_sets_the_window_ttl_and_keeps_it(redis_cache):
    import redis

    cache = caches["default"]
    server = redis.Redis.from_url(REDIS_URL)
    assert cache.count_hits([("ttl-ip", 600, 100), ("ttl-nik", 3600, 100)]) == [1, 1]
    assert 0 < server.ttl(cache.make_key("ttl-ip")) <= 600
    assert 600 < server.ttl(cache.make_key("ttl-nik")) <= 3600
    assert cache.count_hits([("ttl-ip", 5000, 100)]) == [2]
    assert 0 < server.ttl(cache.make_key("ttl-ip")) <= 600


# 1b. Counting, then reading the answer of an inquiry -------------------------------------------


def a_read(word: str = "x", *, found: bool = True) -> Read:
    where = "" if found else " WHERE 1 = 0"
    return Read(statement(connection, f"SELECT %s AS word, 7 AS seven{where}"), [word])


@pytest.mark.django_db
def test_counting_then_reading_counts_as_count_hits_and_returns_the_row(counting):
    windows = [("read-ip", 3600, 100), ("read-nik", 3600, 100)]
    assert count_hits_then_read(counting.cache, windows, a_read("satu")) == ([1, 1], ("satu", 7))
    assert count_hits_then_read(counting.cache, windows, a_read("dua")) == ([2, 2], ("dua", 7))
    assert counting.count(windows) == [3, 3]
    assert count_hits_then_read(counting.cache, windows, a_read(found=False)) == ([4, 4], None)


@pytest.mark.django_db
def test_a_try_over_a_limit_gets_no_row_and_counts_no_later_window(counting):
    windows = [("over-ip", 3600, 1), ("over-nik", 3600, 100)]
    assert count_hits_then_read(counting.cache, windows, a_read()) == ([1, 1], ("x", 7))
    assert count_hits_then_read(counting.cache, windows, a_read()) == ([2], None)
    assert counting.count([("over-nik", 3600, 100)]) == [2]


@pytest.mark.postgres
def test_on_postgresql_counting_and_reading_are_one_statement(database_cache):
    from django.test.utils import CaptureQueriesContext

    windows = [("one-ip", 3600, 100), ("one-nik", 3600, 100)]
    with CaptureQueriesContext(connection) as queries:
        assert count_hits_then_read(caches["default"], windows, a_read()) == ([1, 1], ("x", 7))
    assert len(queries) == 1
    assert "counted AS" in queries[0]["sql"]
    assert "7 AS seven" in queries[0]["sql"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_counting_and_reading_lose_no_count_and_read_only_within_the_limits():
    results = []
    windows = [("rr-a", 3600, 40), ("rr-b", 3600, 10**6)]

    def tries() -> None:
        cache = caches.create_connection("default")
        for number in range(10):
            results.append(count_hits_then_read(cache, windows, a_read(f"r{number}")))

    assert run_in_threads(tries, 8) == []
    assert sorted(counts[0] for counts, _ in results) == list(range(1, 81))
    within = [(counts, row) for counts, row in results if len(counts) == 2]
    assert len(within) == 40
    assert all(row is not None and row[1] == 7 for _, row in within)
    assert all(row is None for counts, row in results if len(counts) == 1)
    assert sorted(counts[1] for counts, _ in within) == list(range(1, 41))
    assert caches["default"].get("rr-a") == 80
    assert caches["default"].get("rr-b") == 40


# 2. PostgreSQL: no count lost or doubled between workers; the table skips the WAL -------------


def _race(windows, per_thread: int = 10, threads: int = 8):
    results = []

    def tries() -> None:
        cache = caches.create_connection("default")
        for _ in range(per_thread):
            results.append(cache.count_hits(windows))

    return results, run_in_threads(tries, threads)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_count_hits_lose_or_double_no_count():
    results, errors = _race([("rl-a", 3600, 10**6), ("rl-b", 3600, 10**6)])
    assert errors == []
    assert sorted(counts[0] for counts in results) == list(range(1, 81))
    assert sorted(counts[1] for counts in results) == list(range(1, 81))
    assert caches["default"].get("rl-a") == 80
    assert caches["default"].get("rl-b") == 80


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_count_hits_count_the_second_window_only_under_the_first_limit():
    results, errors = _race([("rl-a2", 3600, 40), ("rl-b2", 3600, 10**6)])
    assert errors == []
    assert sorted(counts[0] for counts in results) == list(range(1, 81))
    counted = [counts for counts in results if len(counts) == 2]
    assert len(counted) == 40
    assert all(counts[0] <= 40 for counts in counted)
    assert sorted(counts[1] for counts in counted) == list(range(1, 41))
    assert caches["default"].get("rl-a2") == 80
    assert caches["default"].get("rl-b2") == 40


@pytest.mark.postgres
@pytest.mark.django_db
def test_cache_table_is_unlogged_after_migrate():
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE oid = 'ektp_cache'::regclass")
        assert cursor.fetchone()[0] == "u"


# 3. The limits of the public inquiry -------------------------------------------------------


def inquiry(address: str = "10.20.30.40"):
    return RequestFactory().post("/cek/", REMOTE_ADDR=address)


def nik_count(nik: str, rate: str) -> int:
    """What django-ratelimit reads for a NIK (without counting a try)."""
    usage = get_usage(inquiry(), group="portal-nik", key=lambda g, r: nik, rate=rate)
    return usage["count"]


def client_count(address: str, rate: str) -> int:
    return get_usage(inquiry(address), group="portal-ip", key="ip", rate=rate)["count"]


def _cache_rows() -> int:
    """The entries of the default cache: a host file's or the database table's."""
    cache = caches["default"]
    if isinstance(cache, HostCache):
        return cache._run(lambda txn: txn.stat(cache._main(txn))["entries"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM ektp_cache")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_nik_is_limited_after_its_rate_whoever_asks(settings):
    settings.PORTAL_RATE_PER_IP = "100/h"
    settings.PORTAL_RATE_PER_NIK = "3/h"
    for number in range(1, 4):
        assert not limits.inquiry_over_limit(inquiry(f"10.0.0.{number}"), NIK)
    assert nik_count(NIK, "3/h") == 3
    assert limits.inquiry_over_limit(inquiry("10.0.0.9"), NIK)
    assert nik_count(NIK, "3/h") == 4
    assert client_count("10.0.0.9", "100/h") == 1
    assert not limits.inquiry_over_limit(inquiry("10.0.0.9"), "1809015705900002")


@pytest.mark.django_db
def test_a_client_over_its_rate_counts_nothing_against_a_nik(settings):
    settings.PORTAL_RATE_PER_IP = "2/h"
    settings.PORTAL_RATE_PER_NIK = "100/h"
    other = "1809015705900002"
    assert not limits.inquiry_over_limit(inquiry(), NIK)
    assert not limits.inquiry_over_limit(inquiry(), NIK)
    assert nik_count(NIK, "100/h") == 2
    assert limits.inquiry_over_limit(inquiry(), NIK)
    assert limits.inquiry_over_limit(inquiry(), other)
    assert nik_count(NIK, "100/h") == 2
    assert nik_count(other, "100/h") == 0
    assert client_count("10.20.30.40", "2/h") == 4
    # Another client may still ask about the NIK.
    assert not limits.inquiry_over_limit(inquiry("10.9.9.9"), NIK)
    assert nik_count(NIK, "100/h") == 3


@pytest.mark.django_db
def test_an_inquiry_without_a_nik_counts_only_the_client(settings):
    settings.PORTAL_RATE_PER_IP = "2/h"
    assert not limits.inquiry_over_limit(inquiry())
    assert not limits.inquiry_over_limit(inquiry(), None)
    assert limits.inquiry_over_limit(inquiry())
    assert _cache_rows() == 1
    assert client_count("10.20.30.40", "2/h") == 3


@pytest.mark.django_db
def test_limits_switched_off_never_limit_nor_count(settings):
    settings.RATELIMIT_ENABLE = False
    settings.PORTAL_RATE_PER_IP = "1/h"
    settings.PORTAL_RATE_PER_NIK = "1/h"
    for _ in range(5):
        assert not limits.inquiry_over_limit(inquiry(), NIK)
    assert _cache_rows() == 0


@pytest.mark.django_db
def test_one_ipv6_network_is_one_client_as_django_ratelimit_counts_it(settings):
    settings.PORTAL_RATE_PER_IP = "2/h"
    assert not limits.inquiry_over_limit(inquiry("2001:db8:1:2::a"))
    assert not limits.inquiry_over_limit(inquiry("2001:db8:1:2:ffff::b"))
    assert limits.inquiry_over_limit(inquiry("2001:db8:1:2::c"))  # the same /64
    assert not limits.inquiry_over_limit(inquiry("2001:db8:1:3::a"))
    assert client_count("2001:db8:1:2::1", "2/h") == 3


@pytest.mark.django_db
def test_the_client_address_comes_through_trusted_proxies_only(settings):
    forwarded = RequestFactory().post(
        "/cek/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="10.7.7.7"
    )
    assert limits.client_address(forwarded) == "10.0.0.1"
    settings.EKTP_TRUSTED_PROXIES = ["10.0.0.1"]
    assert limits.client_address(forwarded) == "10.7.7.7"
    settings.RATELIMIT_IPV4_MASK = 24
    assert limits.client_address(forwarded) == "10.7.7.0"


@pytest.mark.django_db
def test_two_clients_behind_a_trusted_proxy_are_counted_apart(settings):
    settings.EKTP_TRUSTED_PROXIES = ["10.0.0.1"]
    settings.PORTAL_RATE_PER_IP = "2/h"

    def through_proxy(client: str):
        return RequestFactory().post("/cek/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=client)

    assert not limits.inquiry_over_limit(through_proxy("192.0.2.1"))
    assert not limits.inquiry_over_limit(through_proxy("192.0.2.1"))
    assert limits.inquiry_over_limit(through_proxy("192.0.2.1"))
    assert not limits.inquiry_over_limit(through_proxy("192.0.2.2"))
    # django-ratelimit's key="ip" reads the same address (RATELIMIT_IP_META_KEY).
    assert (
        get_usage(through_proxy("192.0.2.1"), group="portal-ip", key="ip", rate="2/h")["count"] == 3
    )


@pytest.mark.django_db
def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_one_client(settings):
    settings.PORTAL_RATE_PER_IP = "2/h"
    for spoofed in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        request = RequestFactory().post(
            "/cek/", REMOTE_ADDR="10.20.30.40", HTTP_X_FORWARDED_FOR=spoofed
        )
        over = limits.inquiry_over_limit(request)
    assert over
    assert client_count("10.20.30.40", "2/h") == 3


@pytest.mark.django_db
def test_unreachable_counters_refuse_the_inquiry_unless_fail_open(settings, monkeypatch, caplog):
    def unreachable(windows, version=None):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(caches["default"], "count_hits", unreachable)
    with pytest.raises(limits.CountersUnavailable):
        limits.inquiry_over_limit(inquiry(), NIK)
    assert "rate-limit counters unavailable" in caplog.text
    settings.RATELIMIT_FAIL_OPEN = True
    assert not limits.inquiry_over_limit(inquiry(), NIK)


@pytest.mark.django_db
def test_unreachable_counters_refuse_the_read_too_unless_fail_open(settings, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("could not connect to server")

    cache = caches["default"]
    for name in ("count_hits", "count_hits_and_read"):
        if hasattr(cache, name):
            monkeypatch.setattr(cache, name, unreachable)
    with pytest.raises(limits.CountersUnavailable):
        limits.inquiry_over_limit_then_read(inquiry(), NIK, a_read())
    settings.RATELIMIT_FAIL_OPEN = True
    assert limits.inquiry_over_limit_then_read(inquiry(), NIK, a_read()) == (False, ("x", 7))
    settings.RATELIMIT_ENABLE = False
    assert limits.inquiry_over_limit_then_read(inquiry(), NIK, a_read()) == (False, ("x", 7))


def test_a_host_cache_that_fails_refuses_the_inquiry_unless_fail_open(
    settings, host_cache, monkeypatch, caplog
):
    import lmdb

    def failing(windows, version=None):
        raise lmdb.DiskError("No space left on device")

    monkeypatch.setattr(caches["default"], "count_hits", failing)
    with pytest.raises(limits.CountersUnavailable):
        limits.inquiry_over_limit(inquiry(), NIK)
    assert "No space left on device" in caplog.text
    settings.RATELIMIT_FAIL_OPEN = True
    assert not limits.inquiry_over_limit(inquiry(), NIK)


@pytest.mark.django_db
def test_a_programming_error_in_the_counting_is_not_swallowed(settings, monkeypatch):
    def broken(windows, version=None):
        raise ValueError("bug")

    monkeypatch.setattr(caches["default"], "count_hits", broken)
    with pytest.raises(ValueError, match="bug"):
        limits.inquiry_over_limit(inquiry(), NIK)
    settings.RATELIMIT_FAIL_OPEN = True
    with pytest.raises(ValueError, match="bug"):
        limits.inquiry_over_limit(inquiry(), NIK)


# 4. InquiryForm.parse says what the bound form says -------------------------------------------

TOMORROW = object()  # replaced by tomorrow's date when the test runs
MISSING = object()  # the key is left out of the data

FORM_CASES = [
    # (NIK, birth date, valid)
    (NIK, "17-05-1990", True),
    (NIK, "17/05/1990", True),
    (NIK, "1990-05-17", True),
    ("1809 0157 0590 0001", "17-05-1990", True),
    ("1809.0157.0590.0001", "17-05-1990", True),
    ("  1809015705900001\t", " 17-05-1990 \n", True),
    (" " * 30 + NIK + " " * 10, " " * 15 + "17-05-1990" + " " * 5, True),  # long once stripped
    ("1809" + " " * 24 + "015705900001", "17-05-1990", True),  # exactly 40 characters
    ("1809" + " " * 25 + "015705900001", "17-05-1990", False),  # 41: over the field's limit
    ("1809 " * 10 + "0157 0590 0001", "17-05-1990", False),
    (NIK, "17-05-1990" + " lalu" * 3, False),  # birth date over 20 characters
    ("", "17-05-1990", False),
    (NIK, "", False),
    ("   ", "  ", False),
    (MISSING, "17-05-1990", False),
    (NIK, MISSING, False),
    (MISSING, MISSING, False),
    (NIK + "\x00", "17-05-1990", False),
    ("1809015705\x00900001", "17-05-1990", False),
    (NIK, "17-05-1990\x00", False),
    (NIK, "01-01-2999", False),
    (NIK, TOMORROW, False),
    (NIK, "31-12-1899", False),
    (NIK, "31-02-1990", False),
    (NIK, "29-02-1990", False),  # not a leap year
    (NIK, "17-5-1990", True),
    (NIK, "1990-5-17", True),
    (NIK, "17-05/1990", False),  # one separator or the other, not both
    (NIK, "1990/05/17", False),
    (NIK, "17.05.1990", False),
    (NIK, "117-05-1990", False),
    (NIK, "17-05-19900", False),
    (NIK, "00-05-1990", False),
    (NIK, "17-13-1990", False),
    (NIK, "١٧-٠٥-١٩٩٠", False),  # digits of another script
    ("18090157059000AB", "17-05-1990", False),
    (NIK, "kemarin", False),
    ("12345", "17-05-1990", False),
]


def _data(nik, birth_date, kind: str):
    values = {"nik": nik, "birth_date": birth_date}
    if values["birth_date"] is TOMORROW:
        values["birth_date"] = (timezone.localdate() + dt.timedelta(days=1)).strftime("%d-%m-%Y")
    values = {name: value for name, value in values.items() if value is not MISSING}
    if kind == "dict":
        return values
    data = QueryDict(mutable=True)
    for name, value in values.items():
        data[name] = value
    return data


@pytest.mark.parametrize("kind", ["dict", "querydict"])
@pytest.mark.parametrize(("nik", "birth_date", "valid"), FORM_CASES)
def test_parse_agrees_with_the_bound_form(nik, birth_date, valid, kind):
    data = _data(nik, birth_date, kind)
    form = InquiryForm(data)
    assert form.is_valid() is valid, form.errors
    parsed = InquiryForm.parse(data)
    if valid:
        assert parsed == (form.cleaned_data["nik"], form.cleaned_data["birth_date"])
        assert parsed == (NIK, dt.date(1990, 5, 17))
    else:
        assert parsed is None


# 5. The status page counts a malformed inquiry against the client only ------------------------


def check(client, nik: str, birth_date: str = "17-05-1990"):
    return client.post(reverse("portal:status"), {"nik": nik, "birth_date": birth_date})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("nik", "birth_date"),
    [("12345", "17-05-1990"), (NIK, "31-02-1990"), ("", ""), ("1809 " * 10, "17-05-1990")],
)
def test_malformed_inquiry_is_refused_and_counts_only_the_client(client, settings, nik, birth_date):
    settings.PORTAL_RATE_PER_IP = "10/h"
    settings.PORTAL_RATE_PER_NIK = "5/h"
    assert check(client, nik, birth_date).status_code == 400
    assert _cache_rows() == 1
    assert client_count("127.0.0.1", "10/h") == 1
    assert nik_count(NIK, "5/h") == 0


@pytest.mark.django_db
def test_client_over_its_rate_gets_try_again_later_even_for_malformed_input(client, settings):
    settings.PORTAL_RATE_PER_IP = "2/h"
    assert check(client, "12345").status_code == 400
    assert check(client, NIK, "kemarin").status_code == 400
    blocked = check(client, "12345")
    assert blocked.status_code == 429
    assert "coba lagi nanti" in blocked.content.decode().lower()
    assert check(client, NIK).status_code == 429
    assert nik_count(NIK, "5/h") == 0
    assert client_count("127.0.0.1", "2/h") == 4
