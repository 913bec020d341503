"""Void a resident's suket when a card is printed for them."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from ektp.cards.models import CardPrint
from ektp.suket.services import void_suket_for


@receiver(post_save, sender=CardPrint, dispatch_uid="suket_void_on_card_print")
def void_on_card_print(sender, instance: CardPrint, created: bool, raw: bool = False, **kwargs):
    """Void the valid suket of the resident whose card was just printed."""
    if created and not raw:
        void_suket_for(
            instance.resident,
            f"KTP-el dicetak pada {instance.printed_at:%d-%m-%Y}",
            actor=instance.operator,
        )
