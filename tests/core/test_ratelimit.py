"""Rate limits of the public pages (ektp.core.ratelimit): the limits hold, across processes
on the host cache, and a cache that cannot be reached lets the try through."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from django.core.cache import caches
from django.test import RequestFactory
from django.urls import reverse
from django_ratelimit.core import get_usage

from ektp.core import ratelimit
from ektp.core.ratelimit import over_limit, per_client, per_nik, per_sender
from tests.portal.factories import PortalResidentFactory

NIK = "1809015705900001"
OTHER_NIK = "1809015705900002"
TRY_AGAIN = "coba lagi nanti"


def inquiry(address: str = "10.20.30.40", **extra):
    return RequestFactory().post("/cek/", REMOTE_ADDR=address, **extra)


def nik_count(nik: str, rate: str) -> int:
    """What django-ratelimit reads for a NIK (without counting a try)."""
    return get_usage(inquiry(), group="portal-nik", key=lambda g, r: nik, rate=rate)["count"]


def client_count(address: str, rate: str) -> int:
    return get_usage(inquiry(address), group="portal-ip", key="ip", rate=rate)["count"]


def check(client, nik: str, birth_date: str = "17-05-1990"):
    return client.post(reverse("portal:status"), {"nik": nik, "birth_date": birth_date})


# 1. The limits ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_nik_is_limited_after_its_rate_whoever_asks(settings):
    settings.PORTAL_RATE_PER_IP = "100/h"
    settings.PORTAL_RATE_PER_NIK = "3/h"
    for number in range(1, 4):
        request = inquiry(f"10.0.0.{number}")
        assert not over_limit(request, per_client(request), per_nik(NIK))
    assert nik_count(NIK, "3/h") == 3
    request = inquiry("10.0.0.9")
    assert over_limit(request, per_client(request), per_nik(NIK))
    assert nik_count(NIK, "3/h") == 4
    assert client_count("10.0.0.9", "100/h") == 1
    assert not over_limit(request, per_client(request), per_nik(OTHER_NIK))


@pytest.mark.django_db
def test_a_client_over_its_rate_counts_nothing_against_a_nik(settings):
    """Someone trying residents' NIKs from one address cannot lock the residents out."""
    settings.PORTAL_RATE_PER_IP = "2/h"
    settings.PORTAL_RATE_PER_NIK = "100/h"
    request = inquiry()
    assert not over_limit(request, per_client(request), per_nik(NIK))
    assert not over_limit(request, per_client(request), per_nik(NIK))
    assert over_limit(request, per_client(request), per_nik(NIK))
    assert over_limit(request, per_client(request), per_nik(OTHER_NIK))
    assert nik_count(NIK, "100/h") == 2
    assert nik_count(OTHER_NIK, "100/h") == 0
    assert client_count("10.20.30.40", "2/h") == 4
    other = inquiry("10.9.9.9")  # another client may still ask about the NIK
    assert not over_limit(other, per_client(other), per_nik(NIK))
    assert nik_count(NIK, "100/h") == 3


@pytest.mark.django_db
def test_one_ipv6_network_is_one_client_as_django_ratelimit_counts_it(settings):
    settings.PORTAL_RATE_PER_IP = "2/h"
    for address, over in [
        ("2001:db8:1:2::a", False),
        ("2001:db8:1:2:ffff::b", False),
        ("2001:db8:1:2::c", True),  # the same /64
        ("2001:db8:1:3::a", False),
    ]:
        request = inquiry(address)
        assert over_limit(request, per_client(request)) is over
    assert client_count("2001:db8:1:2::1", "2/h") == 3


@pytest.mark.django_db
def test_two_clients_behind_a_trusted_proxy_are_counted_apart(settings):
    settings.EKTP_TRUSTED_PROXIES = ["10.0.0.1"]
    settings.PORTAL_RATE_PER_IP = "2/h"

    def through_proxy(address: str):
        request = inquiry("10.0.0.1", HTTP_X_FORWARDED_FOR=address)
        return over_limit(request, per_client(request))

    assert [through_proxy("192.0.2.1") for _ in range(3)] == [False, False, True]
    assert not through_proxy("192.0.2.2")
    assert client_count("10.0.0.1", "2/h") == 0  # the proxy itself is not the client


@pytest.mark.django_db
def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_one_client(settings):
    settings.PORTAL_RATE_PER_IP = "2/h"
    answers = []
    for spoofed in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        request = inquiry(HTTP_X_FORWARDED_FOR=spoofed)
        answers.append(over_limit(request, per_client(request)))
    assert answers == [False, False, True]
    assert client_count("10.20.30.40", "2/h") == 3


@pytest.mark.django_db
def test_a_whatsapp_sender_is_limited_at_the_client_rate(settings):
    settings.PORTAL_RATE_PER_IP = "2/h"
    request = inquiry()
    answers = [over_limit(request, per_sender("6281234567890")) for _ in range(3)]
    assert answers == [False, False, True]
    assert not over_limit(request, per_sender("6281234567891"))


@pytest.mark.django_db
def test_the_null_limiter_never_limits_nor_counts(settings):
    settings.RATE_LIMITER = "ektp.core.ratelimit.NullRateLimiter"
    settings.PORTAL_RATE_PER_IP = "1/h"
    settings.PORTAL_RATE_PER_NIK = "1/h"
    request = inquiry()
    for _ in range(5):
        assert not over_limit(request, per_client(request), per_nik(NIK))
    assert client_count("10.20.30.40", "1/h") == 0
    assert nik_count(NIK, "1/h") == 0


@pytest.mark.django_db
def test_limits_switched_off_never_limit(settings):
    settings.RATELIMIT_ENABLE = False
    settings.PORTAL_RATE_PER_IP = "1/h"
    request = inquiry()
    assert not any(over_limit(request, per_client(request)) for _ in range(5))


# 2. The answer over a limit ---------------------------------------------------------------


@pytest.mark.django_db
def test_over_the_limit_the_page_answers_429_in_indonesian(client, settings):
    settings.PORTAL_RATE_PER_NIK = "2/h"
    resident = PortalResidentFactory()
    assert check(client, resident.nik, "01-01-1990").status_code == 200
    assert check(client, resident.nik, "02-01-1990").status_code == 200
    blocked = check(client, resident.nik)
    assert blocked.status_code == 429
    assert blocked["Retry-After"] == "600"
    text = blocked.content.decode()
    assert "Terlalu banyak permintaan" in text
    assert TRY_AGAIN in text.lower()
    assert resident.name not in text


@pytest.mark.django_db
def test_over_the_limit_the_api_answers_429_in_indonesian(client, settings):
    settings.PORTAL_RATE_PER_IP = "1/h"
    body = {"nik": NIK, "birth_date": "17-05-1990"}
    api = "/api/v1/portal/status"
    assert client.post(api, body, content_type="application/json").status_code == 200
    blocked = client.post(api, body, content_type="application/json")
    assert blocked.status_code == 429
    assert blocked.json()["detail"] == "Terlalu banyak permintaan. Coba lagi nanti."


# 3. A cache that cannot be reached: fail open -----------------------------------------------


@pytest.fixture
def unreachable_redis(settings):
    """Django's Redis cache pointed at a port where nothing listens: every count fails with a
    redis ConnectionError, as when Redis is down."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }


@pytest.fixture
def unwritable_host_cache(settings, tmp_path):
    """diskcache's Django cache where it cannot make its directory (it would lie under a
    plain file): every count fails with an OSError, as on a broken disk."""
    plain = tmp_path / "plain-file"
    plain.write_text("")
    settings.CACHES = {
        "default": {"BACKEND": "ektp.core.ratelimit.HostCache", "LOCATION": str(plain / "cache")}
    }


@pytest.mark.django_db
@pytest.mark.parametrize("broken", ["unreachable_redis", "unwritable_host_cache"])
def test_a_cache_that_cannot_be_reached_lets_the_try_through_and_says_so(
    request, broken, settings, caplog
):
    request.getfixturevalue(broken)
    settings.PORTAL_RATE_PER_IP = "1/h"
    asked = inquiry()
    assert not over_limit(asked, per_client(asked), per_nik(NIK))
    assert not over_limit(asked, per_client(asked), per_nik(NIK))
    assert "rate-limit counters unavailable" in caplog.text


@pytest.mark.django_db
def test_the_status_page_answers_when_its_counters_cannot_be_reached(client, unreachable_redis):
    resident = PortalResidentFactory()
    page = check(client, resident.nik)
    assert page.status_code == 200
    assert "Belum rekam" in page.content.decode()


@pytest.mark.django_db
def test_closed_on_request_a_cache_that_cannot_be_reached_refuses(settings, unreachable_redis):
    settings.RATELIMIT_FAIL_OPEN = False
    asked = inquiry()
    with pytest.raises(ratelimit.CountersUnavailable):
        over_limit(asked, per_client(asked))


@pytest.mark.django_db
def test_a_programming_error_is_not_swallowed(settings):
    settings.PORTAL_RATE_PER_IP = "not a rate"
    asked = inquiry()
    with pytest.raises(AttributeError):  # django-ratelimit cannot read the rate
        over_limit(asked, per_client(asked))


# 4. One machine's processes share the counters on the host cache ----------------------------


def test_two_cache_objects_on_one_directory_see_the_same_counters(settings, tmp_path):
    location = {"BACKEND": "ektp.core.ratelimit.HostCache", "LOCATION": str(tmp_path / "cache")}
    settings.CACHES = {"default": location}
    first, second = caches.create_connection("default"), caches.create_connection("default")
    assert first is not second
    assert first.add("portal-nik:x", 1, 3600)
    assert not second.add("portal-nik:x", 1, 3600)
    assert second.incr("portal-nik:x") == 2
    assert first.incr("portal-nik:x") == 3
    assert second.get("portal-nik:x") == 3


# Each process counts tries of one NIK and of one client address through over_limit.
TRIES = """
import json, sys
import django
django.setup()
from django.test import RequestFactory
from ektp.core.ratelimit import over_limit, per_client, per_nik

request = RequestFactory().post("/cek/", REMOTE_ADDR="10.1.2.3")
tries = int(sys.argv[1])
print(json.dumps({
    "nik": [over_limit(request, per_nik(sys.argv[2])) for _ in range(tries)],
    "client": [over_limit(request, per_client(request)) for _ in range(tries)],
}))
"""


def test_processes_on_one_machine_share_the_per_nik_and_per_client_limits(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "EKTP_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="ektp.settings",
        EKTP_VAR_DIR=str(tmp_path / "var"),
        EKTP_CACHE="host",
        EKTP_CACHE_DIR=str(tmp_path / "cache"),
        # A day's window: no window ends while the test runs.
        EKTP_PORTAL_RATE_PER_NIK="5/d",
        EKTP_PORTAL_RATE_PER_IP="5/d",
    )
    env.pop("REDIS_URL", None)
    env.pop("CACHE_URL", None)
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", TRIES, "4", NIK],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    answers = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err[-2000:]
        answers.append(json.loads(out.strip().splitlines()[-1]))
    for group in ("nik", "client"):
        tries = [over for answer in answers for over in answer[group]]
        # Eight tries against a rate of five: the first five pass, whichever process made them.
        assert tries.count(False) == 5, answers
        assert tries.count(True) == 3, answers


# The host cache's options as settings.py writes them.
HOST_OPTIONS = {"sqlite_synchronous": 0, "eviction_policy": "none"}


def test_a_flood_of_new_keys_does_not_push_live_counters_out_of_the_host_cache(tmp_path):
    # A cache far smaller than the flood: with eviction by size the first counter would go.
    options = {**HOST_OPTIONS, "size_limit": 64 * 1024}
    cache = ratelimit.HostCache(str(tmp_path / "cache"), {"OPTIONS": options, "TIMEOUT": 600})
    assert cache.add("portal-ip:attacker", 1, 600)
    for n in range(3000):
        cache.add(f"portal-nik:{n:016d}", "x" * 64, 600)
    assert cache.get("portal-ip:attacker") == 1


def test_expired_counters_are_dropped_as_new_ones_are_written(tmp_path):
    cache = ratelimit.HostCache(str(tmp_path / "cache"), {"OPTIONS": HOST_OPTIONS, "SHARDS": 1})
    for n in range(50):
        cache.add(f"portal-nik:{n}", 1, 0.001)
    time.sleep(0.01)
    for n in range(5):
        cache.add(f"portal-nik:new{n}", 1, 600)
    # Each write drops up to ten expired keys: 5 writes dropped all 50, none is left to expire.
    assert cache.expire() == 0
    assert cache.get("portal-nik:new4") == 1
