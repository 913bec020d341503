"""The page side of DomainError: a refusal becomes a message on the page the user goes back to."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib import messages
from django.http import HttpRequest

from ektp.core.errors import DomainError


@contextmanager
def refused_as_message(request: HttpRequest) -> Iterator[None]:
    """Show a domain refusal raised inside the block as an error message, then carry on.

    For action views that redirect back to their page whether the action was done or refused:
    the success message goes inside the block, the redirect after it.
    """
    try:
        yield
    except DomainError as exc:
        messages.error(request, exc.message)
