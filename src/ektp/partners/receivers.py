"""The partners app listens to the KTP-el status machine: a card handed over is a card holder
who may activate the IKD, and is told how."""

from __future__ import annotations

from django.dispatch import receiver

from ektp.enrollment.signals import status_changed
from ektp.partners.signals import ikd_activation_due
from ektp.residents.models import KtpStatus


@receiver(status_changed, dispatch_uid="partners_ikd_activation_due")
def card_handed_over(sender, *, resident, change, **kwargs):
    if change.to_status == KtpStatus.CARD_ISSUED and resident.ikd_activated_at is None:
        ikd_activation_due.send(sender=type(resident), resident=resident)
