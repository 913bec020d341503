"""Reads for notifications: the outbox as staff see it."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from ektp.core.access import limit_to_jurisdiction
from ektp.core.models import User
from ektp.notifications.models import Message
from ektp.residents.models import Resident


def outbox_for(user: User, *, status: str = "", channel: str = "") -> QuerySet[Message]:
    """Return the messages to residents in the user's jurisdiction, newest first."""
    residents_in_reach = limit_to_jurisdiction(Resident.objects.all(), user).values("id")
    qs = Message.objects.select_related("resident")
    if user.jurisdiction_code is not None:
        qs = qs.filter(resident_id__in=residents_in_reach)
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    return qs.order_by("-created_at")


def status_counts(qs: QuerySet[Message]) -> dict[str, int]:
    """Count messages by status."""
    return dict(qs.order_by().values_list("status").annotate(n=Count("id")))
