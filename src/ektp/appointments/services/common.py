"""What every appointments service shares: settings, errors, booking codes."""

from __future__ import annotations

import secrets

from django.conf import settings

from ektp.core.errors import DomainError

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


def cutoff_minutes() -> int:
    """Return how many minutes before a window online booking closes."""
    return int(settings.APPOINTMENTS_CUTOFF_MINUTES)


def window_minutes() -> int:
    """Return the length of one time window in minutes."""
    return int(settings.APPOINTMENTS_WINDOW_MINUTES)


def horizon_days() -> int:
    """Return how many days ahead a resident may book."""
    return int(settings.APPOINTMENTS_HORIZON_DAYS)


class AppointmentError(DomainError, ValueError):
    """A booking or queue rule is broken; `rule` names it, the message explains it."""

    rule = "appointment"


class NotIdentified(AppointmentError):
    rule = "identity"


class UnknownCode(AppointmentError):
    """No booking has this code: the booking a URL or a gate scan names is not there."""

    rule = "unknown_code"
    status = 404


class WindowUnavailable(AppointmentError):
    rule = "window"


class WindowFull(AppointmentError):
    rule = "full"


class AlreadyBooked(AppointmentError):
    rule = "one_active_booking"


class QueueError(AppointmentError):
    rule = "queue"


IDENTITY_MESSAGE = "NIK dan tanggal lahir tidak cocok dengan data kependudukan."


def generate_code() -> str:
    """Return a random booking code that is hard to guess."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(value: str) -> str:
    """Return a typed code in canonical form, or raise UnknownCode when it cannot be one."""
    code = (value or "").strip().upper().replace("-", "").replace(" ", "")
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        raise UnknownCode("Kode booking tidak dikenal.")
    return code
