"""API for notifications: the outbox of messages sent to residents."""

from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from ektp.core.models import Role
from ektp.notifications import selectors
from ektp.notifications.models import Channel, MessageStatus

router = Router(tags=["notifications"])
READERS = {Role.OPERATOR, Role.SUPERVISOR, Role.PROVINCE_ADMIN, Role.SYSTEM_ADMIN}


class MessageOut(Schema):
    id: str
    event: str
    channel: str
    recipient: str
    status: str
    attempts: int
    last_error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


class MessageFilter(Schema):
    status: str = Field("", max_length=20)
    channel: str = Field("", max_length=10)
    limit: int = Field(50, ge=1, le=500)


@router.get("/messages", response=list[MessageOut])
def list_messages(request, filters: Query[MessageFilter]):
    """List the latest messages to residents in the caller's jurisdiction."""
    if request.auth.role not in READERS:
        raise HttpError(403, "Peran Anda tidak boleh melihat kotak keluar notifikasi.")
    if filters.status and filters.status not in MessageStatus.values:
        raise HttpError(422, f"status: harus salah satu dari {', '.join(MessageStatus.values)}.")
    if filters.channel and filters.channel not in Channel.values:
        raise HttpError(422, f"channel: harus salah satu dari {', '.join(Channel.values)}.")
    qs = selectors.outbox_for(request.auth, status=filters.status, channel=filters.channel)
    return [
        MessageOut(
            id=str(m.id),
            event=m.event,
            channel=m.channel,
            recipient=m.recipient,
            status=m.status,
            attempts=m.attempts,
            last_error=m.last_error,
            created_at=m.created_at,
            sent_at=m.sent_at,
        )
        for m in qs[: filters.limit]
    ]
