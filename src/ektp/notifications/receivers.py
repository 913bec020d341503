"""Notices that listen to what other apps record (those apps never import notifications)."""

from __future__ import annotations

from django.dispatch import receiver

from ektp.notifications.models import Event
from ektp.notifications.services import notify
from ektp.portal.signals import access_code_requested


@receiver(access_code_requested, dispatch_uid="notifications_send_access_code")
def send_access_code(sender, *, resident, code, access_code_id, what, minutes, **kwargs):
    """Send a one-time code to the resident's phone on record (the default channels)."""
    notify(
        event=Event.ACCESS_CODE,
        resident=resident,
        context={"code": code, "what": what, "minutes": minutes},
        dedup_key=f"{Event.ACCESS_CODE}:{access_code_id}",
    )
