"""The client's address, the one place every part of ektp reads it from.

Behind a reverse proxy REMOTE_ADDR is the proxy. The proxies listed in EKTP_TRUSTED_PROXIES
append the address they saw to X-Forwarded-For; that header is believed only when the direct
peer is one of them, and then read from the right, skipping the trusted hops: the first
address that is not a trusted proxy is the client (entries further left were written by the
client itself and prove nothing). With no trusted proxy (the default) the header is ignored.

Used by the login lockout (AXES_CLIENT_IP_CALLABLE), the audit log, and the rate limits of the
public pages (RATELIMIT_IP_META_KEY for django-ratelimit's key="ip", and core.ratelimit).
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=16)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """Parse the trusted proxies (addresses or networks, e.g. 10.0.0.0/8)."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _trusted() -> tuple[Network, ...]:
    return trusted_networks(tuple(settings.EKTP_TRUSTED_PROXIES))


def _is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks) -> bool:
    return any(address in network for network in networks)


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def _resolve(peer: str, forwarded: str, networks: tuple[Network, ...]) -> str:
    seen = _parse(peer)
    if seen is None or not _is_trusted(seen, networks):
        return peer
    for hop in reversed(forwarded.split(",")):
        address = _parse(hop)
        if address is None:
            # A malformed entry: the client is unknown past this point; the last hop that
            # a trusted proxy vouches for stands for it.
            break
        seen = address
        if not _is_trusted(address, networks):
            break
    return str(seen)


def client_ip(request: HttpRequest | None) -> str | None:
    """Return the client's address: REMOTE_ADDR, or the X-Forwarded-For hop that the trusted
    proxies vouch for when the direct peer is one of them."""
    if request is None:
        return None
    peer = request.META.get("REMOTE_ADDR") or None
    if peer is None:
        return None
    networks = _trusted()
    if not networks:
        return peer
    return _resolve(peer, request.META.get("HTTP_X_FORWARDED_FOR", ""), networks)


def is_from_trusted_proxy(request: HttpRequest) -> bool:
    """Tell whether the direct peer of a request is a trusted proxy."""
    networks = _trusted()
    if not networks:
        return False
    peer = _parse(request.META.get("REMOTE_ADDR") or "")
    return peer is not None and _is_trusted(peer, networks)


@functools.lru_cache(maxsize=4096)
def _network_of(address: str, ipv4_mask: int, ipv6_mask: int) -> str:
    mask = ipv6_mask if ":" in address else ipv4_mask
    try:
        return str(ipaddress.ip_network(f"{address}/{mask}", strict=False).network_address)
    except ValueError:  # not an IP address (a server on a Unix socket says what it likes)
        return address


def client_network(request: HttpRequest) -> str:
    """Return the client's address as a rate limit counts it: an IPv6 address masked to its
    network (RATELIMIT_IPV6_MASK, RATELIMIT_IPV4_MASK), as django-ratelimit's key="ip" does."""
    address = client_ip(request) or "0.0.0.0"
    return _network_of(
        address,
        settings.RATELIMIT_IPV4_MASK,
        settings.RATELIMIT_IPV6_MASK,
    )


def ratelimit_key(group: str, request: HttpRequest) -> str:
    """A key for django-ratelimit's `key=`: the client's network (see client_network)."""
    return client_network(request)
