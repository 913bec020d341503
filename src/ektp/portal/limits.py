"""Rate limits of the public inquiry: per client address and per NIK, against enumeration.

django-ratelimit says how a rate reads ("30/10m"), when each key's window ends and what the cache key is,
through helpers of its core module that are not public (uv.lock pins the version, and
tests/portal/test_counting.py checks that its `get_usage` reads the same counters). The
client's address is ektp.core.net's, the function RATELIMIT_IP_META_KEY names. The
counting is ours: the client's and the NIK's windows are counted in one round trip to the
shared cache (see cache.count_hits) instead of an add and an increment each, and a client
already over its rate counts nothing against a NIK (it cannot lock residents out by trying
their numbers). `over_limit_then_read` also reads the answer, in the same statement where
the counters share the answer's PostgreSQL database.
"""

from __future__ import annotations

import functools
import logging

from django.conf import settings
from django.core.cache import caches
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import (
    EXPIRATION_FUDGE,
    _get_window,
    _make_cache_key,
    _split_rate,
)
from lmdb import Error as LmdbError
from redis.exceptions import RedisError

from ektp.core.net import client_network
from ektp.core.prepared import Read, fetch_one
from ektp.portal.cache import Window, count_hits, count_hits_then_read, over_any

log = logging.getLogger(__name__)

CLIENT_GROUP = "portal-ip"
NIK_GROUP = "portal-nik"
# How long a client is asked to wait when the counters cannot be reached (a full disk, a
# database or Redis that is down): long enough to be fixed, short enough to try again soon.
UNAVAILABLE_RETRY_AFTER = 60


class CountersUnavailable(Exception):
    """The shared cache that holds the rate-limit counters cannot be read or written.

    Not the same answer as a client over its rate: ektp.portal.middleware turns it into a
    503 "service briefly unavailable" with a Retry-After, a page or a JSON body.
    """

    message = "Layanan sedang tidak tersedia sebentar. Silakan coba lagi dalam beberapa menit."
    retry_after = UNAVAILABLE_RETRY_AFTER


def per_ip_rate() -> str:
    return getattr(settings, "PORTAL_RATE_PER_IP", "30/10m")


def per_nik_rate() -> str:
    return getattr(settings, "PORTAL_RATE_PER_NIK", "5/h")


@functools.lru_cache(maxsize=64)
def _parsed(rate: str) -> tuple[int, int]:
    return _split_rate(rate)


def _window(group: str, value: str, rate: str) -> Window:
    limit, period = parsed = _parsed(rate)  # the library reads a parsed rate as it is
    key = _make_cache_key(group, _get_window(value, period), parsed, value, ALL)
    return key, period + EXPIRATION_FUDGE, limit


def over_limit(*counters: tuple[str, str, str]) -> bool:
    """Count one try in each (group, value, rate) in turn, in one round trip to the shared
    cache; tell whether one went over its rate (counting stops there).

    When the shared cache cannot be reached (a full disk, a database or Redis down), raise
    CountersUnavailable, unless RATELIMIT_FAIL_OPEN is set: then nothing is counted and the
    try goes through. Closed by default, unlike the house rule for other limits: these
    counters are all that stands between a list of NIKs (printed on many documents) and the
    residents' answers, and whoever can fill the disk must not switch them off.
    """
    return _counted(counters, None)[0]


def _counted(counters, read: Read | None) -> tuple[bool, tuple | None]:
    """Count as over_limit does; with a read, also return its row (see count_hits_then_read),
    None when over a rate."""
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return False, (fetch_one(read) if read is not None else None)
    windows = [_window(group, value, rate) for group, value, rate in counters]
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    try:
        if read is None:
            return over_any(count_hits(cache, windows), windows), None
        counts, row = count_hits_then_read(cache, windows, read)
    except (OperationalError, InterfaceError, OSError, RedisError, LmdbError) as exc:
        log.warning("rate-limit counters unavailable: %s", exc)
        if not getattr(settings, "RATELIMIT_FAIL_OPEN", False):
            raise CountersUnavailable(str(exc)) from exc
        return False, (fetch_one(read) if read is not None else None)
    return over_any(counts, windows), row


def client_address(request: HttpRequest) -> str:
    """Return the client's address as the limits count it: ektp.core.net's (through the
    trusted proxies only), an IPv6 one masked to its network as django-ratelimit's key="ip"
    does (RATELIMIT_IP_META_KEY names the same function)."""
    return client_network(request)


def client_over_limit(request: HttpRequest) -> bool:
    """Count one inquiry from the client's address and tell whether it is over the rate."""
    return over_limit((CLIENT_GROUP, client_address(request), per_ip_rate()))


def nik_over_limit(request: HttpRequest, nik: str) -> bool:
    """Count one inquiry about a NIK (known or not) and tell whether it is over the rate."""
    return over_limit((NIK_GROUP, nik, per_nik_rate()))


def inquiry_over_limit(request: HttpRequest, nik: str | None = None) -> bool:
    """Count one inquiry from the client's address and, when a well-formed NIK was typed, one
    about that NIK (known or not); tell whether either is over its rate."""
    counters = [(CLIENT_GROUP, client_address(request), per_ip_rate())]
    if nik is not None:
        counters.append((NIK_GROUP, nik, per_nik_rate()))
    return over_limit(*counters)


def over_limit_then_read(*counters: tuple[str, str, str], read: Read) -> tuple[bool, tuple | None]:
    """Count as over_limit does, then run a read of one row when no counter is over its rate;
    return (over a rate, the read's row or None).

    Where the counters share the read's PostgreSQL database, counting and reading are one
    statement (see cache.count_hits_then_read): one round trip to the server, not two.
    """
    return _counted(counters, read)


def inquiry_over_limit_then_read(
    request: HttpRequest, nik: str, read: Read
) -> tuple[bool, tuple | None]:
    """Count one inquiry from the client's address and one about a well-formed NIK, as
    inquiry_over_limit does, then run the read of its answer (see over_limit_then_read)."""
    return over_limit_then_read(
        (CLIENT_GROUP, client_address(request), per_ip_rate()),
        (NIK_GROUP, nik, per_nik_rate()),
        read=read,
    )
