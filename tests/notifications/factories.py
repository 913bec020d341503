"""Factories and helpers for notification tests: residents with addresses, Cloud API payloads."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from tests.residents.factories import ResidentFactory

PAYLOADS = Path(__file__).parent / "payloads"
APP_SECRET = "rahasia-aplikasi-uji"
VERIFY_TOKEN = "token-verifikasi-uji"


class ReachableResidentFactory(ResidentFactory):
    """A resident with a mobile number and an email address in the registry."""

    phone = "081234567890"
    email = "warga@contoh.id"


def payload(name: str, **replace: str) -> bytes:
    """Return a recorded Cloud API webhook body, with placeholders like {ID} or {TEXT} filled."""
    text = (PAYLOADS / f"{name}.json").read_text()
    for key, value in replace.items():
        text = text.replace("{" + key + "}", json.dumps(value)[1:-1])
    return text.encode()


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
