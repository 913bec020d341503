"""How an edge talks to its office: a small transport interface, an HTTP one (urllib from the
standard library) and an in-process one (Django's test client, for a single-process drill),
and the client that signs each request with the device key."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from ektp.sync import packets

API_PREFIX = "/api/v1/sync"


class ServerUnreachable(ConnectionError):
    """The office did not answer (no signal, server down, connection cut)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError):
            return None


class Transport(Protocol):
    def send(self, method: str, path: str, *, body: bytes, headers: dict[str, str]) -> Answer:
        """Send one request to the office; raise ServerUnreachable when it cannot be reached."""


class HttpTransport:
    """HTTP(S) to the office with urllib; every request has a timeout."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def send(self, method: str, path: str, *, body: bytes, headers: dict[str, str]) -> Answer:
        request = urllib.request.Request(
            self.base_url + path,
            data=body if method != "GET" else None,
            method=method,
            headers=headers,
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Answer(response.status, response.read())
        except urllib.error.HTTPError as error:
            with error:
                try:
                    content = error.read()
                except OSError:
                    raise ServerUnreachable(str(error)) from None
            return Answer(error.code, content)
        except (urllib.error.URLError, OSError, ValueError) as error:
            # ValueError: http.client's answer to a reply cut in the middle of its status line
            raise ServerUnreachable(str(getattr(error, "reason", error))) from None


class DjangoClientTransport:
    """The office in the same process (Django's test client): drills and tests on one node."""

    def __init__(self, client=None) -> None:
        from django.test import Client

        self.client = client or Client()

    def send(self, method: str, path: str, *, body: bytes, headers: dict[str, str]) -> Answer:
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        content_type = headers.get("Content-Type", "application/octet-stream")
        extra.pop("HTTP_CONTENT_TYPE", None)
        if method == "GET":
            response = self.client.get(path, **extra)
        else:
            response = self.client.generic(method, path, body, content_type=content_type, **extra)
        return Answer(response.status_code, response.content)


class OfficeClient:
    """Calls of the sync API, each signed with the device's key."""

    def __init__(
        self,
        transport: Transport,
        *,
        device_id: str = "",
        key: Ed25519PrivateKey | None = None,
        clock=timezone.now,
    ) -> None:
        self.transport = transport
        self.device_id = str(device_id)
        self.key = key
        self.clock = clock  # the device's own clock: the office measures its skew

    def call(self, method: str, path: str, *, payload=None, data: bytes | None = None) -> Answer:
        full = API_PREFIX + path
        body = (
            data
            if data is not None
            else (b"" if payload is None else json.dumps(payload, default=str).encode())
        )
        headers = {
            "Content-Type": "application/octet-stream" if data is not None else "application/json"
        }
        if self.key is not None:
            at = self.clock().isoformat()
            message = packets.request_message(method=method, path=full, at=at, body=body)
            headers.update(
                {
                    "X-Ektp-Device": self.device_id,
                    "X-Ektp-Time": at,
                    "X-Ektp-Signature": packets.b64(packets.sign(self.key, message)),
                }
            )
        return self.transport.send(method, full, body=body, headers=headers)


def quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")
