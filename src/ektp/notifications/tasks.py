"""Background work for notifications: send one queued message."""

from __future__ import annotations

from django_tasks import task

from ektp.notifications import services


@task(takes_context=True)
def send_message(context, *, message_id: str) -> str:
    """Send one queued message if it is due; a second run finds it claimed or sent.

    The run's id goes with the claim: if this run is taken up again after its worker died, the
    send it may have made is settled first, so the message never leaves twice.
    """
    return services.deliver(message_id=message_id, run_id=str(context.task_result.id))


@task()
def notify_region_change(*, change_set_id: str) -> int:
    """Tell the residents whose address a region decree changed; safe to run twice."""
    from ektp.notifications.events import notify_address_changed

    return notify_address_changed(change_set_id=change_set_id)
