"""The client's address behind trusted proxies only: lockout, audit log, https."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import reverse

from ektp.core import net
from ektp.core.models import AuditEvent
from tests.conftest import PASSWORD
from tests.core.keyring import production_keys

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"


def request_from(peer: str, forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=peer, **extra)


def test_without_trusted_proxies_the_forwarded_for_header_is_ignored():
    assert net.client_ip(request_from("192.0.2.9", "198.51.100.7")) == "192.0.2.9"


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # The proxy appended the address it saw: that is the client.
        (PROXY, "198.51.100.7", "198.51.100.7"),
        # Whatever the client wrote itself (on the left) proves nothing.
        (PROXY, "203.0.113.66, 198.51.100.7", "198.51.100.7"),
        # Trusted hops are skipped from the right.
        (PROXY, "198.51.100.7, 10.0.0.2", "198.51.100.7"),
        (PROXY, "2001:db8::7", "2001:db8::7"),
        # A peer that is not a trusted proxy is the client, whatever it says.
        ("192.0.2.9", "198.51.100.7", "192.0.2.9"),
        # No header, or garbage in it: the last address a trusted hop vouches for.
        (PROXY, "", PROXY),
        (PROXY, "nonsense", PROXY),
        (PROXY, "198.51.100.7, nonsense, 10.0.0.2", "10.0.0.2"),
        (PROXY, "10.0.0.3, 10.0.0.2", "10.0.0.3"),
    ],
)
def test_the_client_is_the_first_untrusted_hop_from_the_right(settings, peer, forwarded, client):
    settings.EKTP_TRUSTED_PROXIES = ["10.0.0.0/29"]
    assert net.client_ip(request_from(peer, forwarded)) == client


def test_a_bad_trusted_proxy_setting_stops_the_start(monkeypatch):
    import importlib

    import ektp.settings as ektp_settings

    monkeypatch.setenv("EKTP_TRUSTED_PROXIES", "10.0.0.1,not-an-address")
    try:
        with pytest.raises(ImproperlyConfigured, match="not-an-address"):
            importlib.reload(ektp_settings)
    finally:
        monkeypatch.delenv("EKTP_TRUSTED_PROXIES")
        importlib.reload(ektp_settings)


def test_the_audit_log_records_the_client_behind_a_trusted_proxy(client, settings, operator):
    settings.EKTP_TRUSTED_PROXIES = [PROXY]
    client.post(
        reverse("core:login"),
        {"username": operator.username, "password": PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    event = AuditEvent.objects.get(user=operator, action="login")
    assert event.ip_address == "198.51.100.7"


def test_the_audit_log_ignores_a_spoofed_forwarded_for(client, operator):
    client.post(
        reverse("core:login"),
        {"username": operator.username, "password": PASSWORD},
        REMOTE_ADDR="192.0.2.9",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert AuditEvent.objects.get(user=operator, action="login").ip_address == "192.0.2.9"


def fail_login(client, username: str, peer: str, forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return client.post(
        reverse("core:login"),
        {"username": username, "password": "salah"},
        REMOTE_ADDR=peer,
        **extra,
    )


def login(client, username: str, peer: str, forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return client.post(
        reverse("core:login"),
        {"username": username, "password": PASSWORD},
        REMOTE_ADDR=peer,
        **extra,
    )


def test_one_client_behind_the_proxy_cannot_lock_out_another(client, settings, operator):
    settings.EKTP_TRUSTED_PROXIES = [PROXY]
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        fail_login(client, operator.username, PROXY, "198.51.100.66")
    assert login(client, operator.username, PROXY, "198.51.100.66").status_code == 429
    # The real user, behind the same proxy from another address, still gets in.
    response = login(client, operator.username, PROXY, "198.51.100.7")
    assert response.status_code == 302


def test_a_spoofed_forwarded_for_does_not_escape_the_lockout(client, settings, operator):
    settings.AXES_FAILURE_LIMIT = 3
    for number in range(3):
        fail_login(client, operator.username, "192.0.2.9", f"198.51.100.{number}")
    response = login(client, operator.username, "192.0.2.9", "198.51.100.200")
    assert response.status_code == 429


def test_https_is_believed_only_from_a_trusted_proxy(client, settings):
    settings.EKTP_TRUSTED_PROXIES = [PROXY]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    through_proxy = client.get("/healthz", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https")
    assert through_proxy.status_code == 200
    spoofed = client.get("/healthz", REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_PROTO="https")
    assert spoofed.status_code == 301
    assert spoofed["Location"].startswith("https://")


def test_production_sends_hsts_with_the_chosen_options(monkeypatch, tmp_path):
    import importlib

    import ektp.settings as ektp_settings

    for name, value in {
        "EKTP_ENV": "production",
        **production_keys(tmp_path),
        "EKTP_TRUSTED_PROXIES": "127.0.0.1",
        "EKTP_HSTS_INCLUDE_SUBDOMAINS": "1",
        "EKTP_HSTS_PRELOAD": "0",
    }.items():
        monkeypatch.setenv(name, value)
    try:
        production = importlib.reload(ektp_settings)
        assert production.SECURE_HSTS_SECONDS == 31536000
        assert production.SECURE_HSTS_INCLUDE_SUBDOMAINS is True
        assert production.SECURE_HSTS_PRELOAD is False
        assert production.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    finally:
        monkeypatch.undo()
        importlib.reload(ektp_settings)


def test_no_proxy_ssl_header_without_trusted_proxies():
    from django.conf import settings

    assert settings.EKTP_TRUSTED_PROXIES == []
    assert settings.SECURE_PROXY_SSL_HEADER is None
