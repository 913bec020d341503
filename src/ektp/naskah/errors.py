"""The naskah app's domain errors."""

from __future__ import annotations

from ektp.core.errors import DomainError


class NaskahError(DomainError, ValueError):
    """A letter or letterhead breaks a rule; the message (Bahasa Indonesia) says which."""

    rule = "naskah_invalid"


class NaskahForbidden(NaskahError):
    """The actor may not change or number this office's letters."""

    rule = "naskah_forbidden"
    status = 403
