"""Rate limits of the public pages: tries per client address, per NIK, per WhatsApp sender.

A view opts in with one call, `over_limit(request, per_client(request), per_nik(nik))`, and
answers `too_many_requests(request)` when it says so. The limiter is chosen by the
RATE_LIMITER setting: `CacheRateLimiter` counts through django-ratelimit's public
`get_usage` in the Django cache RATELIMIT_USE_CACHE names (diskcache's file on one machine,
Redis across several), `NullRateLimiter` counts nothing.

The limits are counted in the order given and counting stops at the first one over its
rate: a client already over its own rate counts nothing against a NIK, so it cannot lock
residents out by trying their numbers.

When the cache cannot be reached (a full disk, Redis down) the limiter fails open: the
error is logged and the try goes through. An operator who would rather refuse sets
RATELIMIT_FAIL_OPEN = False: then CountersUnavailable is raised, and
CountersUnavailableMiddleware answers 503 "briefly unavailable" with a Retry-After.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from diskcache import DjangoCache
from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.module_loading import import_string
from django_ratelimit.core import get_usage

from ektp.core.net import client_network

log = logging.getLogger(__name__)

CLIENT_GROUP = "portal-ip"
NIK_GROUP = "portal-nik"
SENDER_GROUP = "wa-sender"
TOO_MANY_MESSAGE = "Terlalu banyak permintaan. Coba lagi nanti."
# How long a client over its rate is asked to wait before trying again.
TOO_MANY_RETRY_AFTER = 600
# How long a client is asked to wait when the counters cannot be reached and the limiter
# fails closed: long enough to be fixed, short enough to try again soon.
UNAVAILABLE_RETRY_AFTER = 60

try:
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - redis is a dependency, but not needed here
    RedisError = OSError

# What a cache backend raises when it cannot be reached: the database cache's database,
# diskcache's SQLite files, the disk under them, Redis.
BACKEND_ERRORS = (DatabaseError, sqlite3.Error, OSError, RedisError)


@dataclass(frozen=True)
class Limit:
    """One counter: tries of `value` (an address, a NIK, a sender) within `rate` ("5/10m")."""

    group: str
    value: str
    rate: str


class RateLimiter(Protocol):
    def hit(self, request: HttpRequest, limits: Sequence[Limit]) -> bool:
        """Count one try in each limit in turn; tell whether one went over its rate."""


class CacheRateLimiter:
    """Count in Django's cache through django-ratelimit's public get_usage."""

    def hit(self, request: HttpRequest, limits: Sequence[Limit]) -> bool:
        for limit in limits:
            usage = get_usage(
                request,
                group=limit.group,
                key=lambda _group, _request, value=limit.value: value,
                rate=limit.rate,
                increment=True,
            )
            if usage is not None and usage["should_limit"]:
                return True
        return False


class NullRateLimiter:
    """Count nothing, limit nothing (tests and benchmarks of other things)."""

    def hit(self, request: HttpRequest, limits: Sequence[Limit]) -> bool:
        return False


class HostCache(DjangoCache):
    """diskcache's Django cache (SQLite files shared by every process of the machine), kept
    open between requests, its writes taking turns through a lock file.

    Django closes every cache when a request finishes; diskcache would close its SQLite
    connections and open them again, with their PRAGMAs, on the next request, which costs
    more than the whole inquiry. Its connections are per thread, opened again after a fork.

    Every inquiry counts the same few keys (one client behind a proxy): two processes'
    writes meet on one SQLite file, and SQLite's busy handler puts the second to sleep for
    a millisecond or more and polls again, long enough to stop a worker of one thread.
    Waiting on an exclusive lock of a file beside the cache instead, the kernel wakes the
    next writer the moment the one before is done. The lock is opened per thread (flock
    belongs to the open file, so threads exclude one another as processes do) and opened
    again after a fork. An add of a key that lives is told by a read, without a write.
    """

    def __init__(self, directory, params):
        super().__init__(directory, params)
        self._lock_path = os.path.join(self.directory, "writers.lock")
        self._turns = threading.local()

    @contextlib.contextmanager
    def _write_turn(self):
        if getattr(self._turns, "pid", None) != os.getpid():
            self._turns.fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._turns.pid = os.getpid()
        fcntl.flock(self._turns.fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._turns.fd, fcntl.LOCK_UN)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None, **kwargs):
        if self.has_key(key, version=version):
            return False
        with self._write_turn():
            return super().add(key, value, timeout, version, **kwargs)

    def incr(self, key, delta=1, version=None, **kwargs):
        with self._write_turn():
            return super().incr(key, delta, version, **kwargs)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None, **kwargs):
        with self._write_turn():
            return super().set(key, value, timeout, version, **kwargs)

    def close(self, **kwargs) -> None:
        pass


class CountersUnavailable(Exception):
    """The counters cannot be reached and the limiter fails closed (RATELIMIT_FAIL_OPEN off)."""

    message = "Layanan sedang tidak tersedia sebentar. Silakan coba lagi dalam beberapa menit."
    retry_after = UNAVAILABLE_RETRY_AFTER


_limiters: dict[str, RateLimiter] = {}


def limiter() -> RateLimiter:
    """Return the limiter the RATE_LIMITER setting names (one instance per class)."""
    path = settings.RATE_LIMITER
    found = _limiters.get(path)
    if found is None:
        found = _limiters[path] = import_string(path)()
    return found


def over_limit(request: HttpRequest, *limits: Limit) -> bool:
    """Count one try in each limit in turn (stopping at the first one over its rate) and
    tell whether one went over. On a cache that cannot be reached: log, and let the try
    through (or raise CountersUnavailable when RATELIMIT_FAIL_OPEN is off)."""
    try:
        return limiter().hit(request, limits)
    except BACKEND_ERRORS as exc:
        log.warning("rate-limit counters unavailable: %s", exc)
        if not settings.RATELIMIT_FAIL_OPEN:
            raise CountersUnavailable(str(exc)) from exc
        return False


def per_client(request: HttpRequest) -> Limit:
    """Inquiries from the client's address (through the trusted proxies; an IPv6 address
    masked to its network, as django-ratelimit's key="ip" does)."""
    return Limit(CLIENT_GROUP, client_network(request), settings.PORTAL_RATE_PER_IP)


def per_nik(nik: str) -> Limit:
    """Inquiries about one NIK (known or not), from anywhere."""
    return Limit(NIK_GROUP, nik, settings.PORTAL_RATE_PER_NIK)


def per_sender(sender: str) -> Limit:
    """Messages from one WhatsApp sender, at the client rate of the public pages."""
    return Limit(SENDER_GROUP, sender, settings.PORTAL_RATE_PER_IP)


def too_many_requests(request: HttpRequest) -> HttpResponse:
    """Answer a client or a NIK over its rate with a plain "try again later" page."""
    response = render(request, "core/too_many.html", status=429)
    response["Retry-After"] = str(TOO_MANY_RETRY_AFTER)
    return response


class CountersUnavailableMiddleware:
    """Turn CountersUnavailable into a 503: a page in Bahasa Indonesia, JSON under /api/."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, CountersUnavailable):
            return None
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": exception.message}, status=503)
        else:
            response = render(
                request, "core/unavailable.html", {"message": exception.message}, status=503
            )
        response["Retry-After"] = str(exception.retry_after)
        response["Cache-Control"] = "no-store"
        return response
