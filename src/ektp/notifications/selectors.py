"""Reads for notifications: the outbox as staff see it."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from ektp.core.access import jurisdiction_q
from ektp.core.models import User
from ektp.notifications.models import Message


def outbox_for(user: User, *, status: str = "", channel: str = "") -> QuerySet[Message]:
    """Return the messages to residents in the user's jurisdiction, newest first."""
    # A join on the few messages, not an IN over every resident of the district.
    qs = Message.objects.select_related("resident").filter(
        jurisdiction_q(
            user, kabkota_field="resident__kabkota_code", province_field="resident__province_code"
        )
    )
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    return qs.order_by("-created_at")


def status_counts(qs: QuerySet[Message]) -> dict[str, int]:
    """Count messages by status."""
    return dict(qs.order_by().values_list("status").annotate(n=Count("id")))
