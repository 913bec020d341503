"""The root of every domain error: a message for people, a rule for programs, an HTTP status.

Django-free on purpose, so that `ektp.abis` (which must not import Django) can derive its
errors from it too. The API answers a DomainError with one handler (`core.api`) and pages
with one middleware (`core.middleware.DomainErrorMiddleware`); views and endpoints do not
translate errors by hand.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refuses the action; `message` says why in Bahasa Indonesia."""

    rule: str = "domain"
    status: int = 422

    def __init__(self, message: str = "", *, rule: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if rule is not None:
            self.rule = rule
        if status is not None:
            self.status = status
