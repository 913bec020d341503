"""Notices that listen to what other apps record (those apps never import notifications)."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from ektp.appointments.signals import booking_made, booking_reminder_due
from ektp.enrollment.signals import status_changed
from ektp.notifications.events import (
    notify_booking,
    notify_ikd_howto,
    notify_status_change,
    notify_suket_issued,
)
from ektp.notifications.models import Event
from ektp.notifications.services import notify
from ektp.partners.signals import ikd_activation_due
from ektp.portal.signals import access_code_requested
from ektp.regions.signals import region_change_applied
from ektp.residents.models import KtpStatus
from ektp.suket.signals import suket_issued


@receiver(access_code_requested, dispatch_uid="notifications_send_access_code")
def send_access_code(sender, *, resident, code, access_code_id, what, minutes, **kwargs):
    """Send a one-time code to the resident's phone on record (the default channels)."""
    notify(
        event=Event.ACCESS_CODE,
        resident=resident,
        context={"code": code, "what": what, "minutes": minutes},
        dedup_key=f"{Event.ACCESS_CODE}:{access_code_id}",
    )


@receiver(status_changed, dispatch_uid="notifications_status_notice")
def queue_status_notice(sender, *, resident, change, **kwargs):
    """Queue the resident's notice for a new KTP-el status, in the change's transaction."""
    # A card notice is kept once per printed card (its key is the CardPrint); the others once
    # per change of status.
    card_status = change.to_status in (KtpStatus.CARD_PRINTED, KtpStatus.CARD_ISSUED)
    notify_status_change(resident, change.to_status, key="" if card_status else str(change.id))


@receiver(booking_made, dispatch_uid="notifications_booking_confirmed")
def queue_booking_confirmation(sender, *, booking, **kwargs):
    """Queue the confirmation of a new booking, in the booking's transaction."""
    notify_booking(booking=booking)


@receiver(booking_reminder_due, dispatch_uid="notifications_booking_reminder")
def queue_booking_reminder(sender, *, booking, **kwargs):
    """Queue the reminder of tomorrow's booking, in the transaction that marks it reminded."""
    notify_booking(booking=booking, reminder=True)


@receiver(suket_issued, dispatch_uid="notifications_suket_issued")
def queue_suket(sender, *, suket, pdf, **kwargs):
    """Queue the new suket with its signed PDF, in the transaction that marks it delivered."""
    notify_suket_issued(suket=suket, pdf=pdf)


@receiver(region_change_applied, dispatch_uid="notifications_address_changed")
def queue_address_notices(sender, *, change_set, **kwargs):
    """After the decree commits, tell its residents in the background (one task, by id)."""
    from ektp.notifications.tasks import notify_region_change

    change_set_id = str(change_set.pk)
    transaction.on_commit(lambda: notify_region_change.enqueue(change_set_id=change_set_id))


@receiver(ikd_activation_due, dispatch_uid="notifications_ikd_howto")
def queue_ikd_howto(sender, *, resident, **kwargs):
    """Tell a resident who has just collected the card how to activate the IKD."""
    notify_ikd_howto(resident)
