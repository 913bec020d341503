"""Background work for notifications: send one queued message."""

from __future__ import annotations

from django_tasks import task

from ektp.notifications import services


@task()
def send_message(*, message_id: str) -> str:
    """Send one queued message if it is due; a second run finds it claimed or sent."""
    return services.deliver(message_id=message_id)
