"""Number a letter at the moment the office issues it: a blank request when it is submitted,
a tanda terima when the card is handed over (never when someone opens a page)."""

from __future__ import annotations

from django.dispatch import receiver

from ektp.cards.signals import blank_request_submitted, card_handed_over
from ektp.naskah import services


@receiver(blank_request_submitted, dispatch_uid="naskah_number_request_letter")
def number_submitted_request(sender, blank_request, **kwargs) -> None:
    services.number_request_letter(blank_request=blank_request, actor=blank_request.submitted_by)


@receiver(card_handed_over, dispatch_uid="naskah_number_receipt")
def number_handed_over_card(sender, card, operator, **kwargs) -> None:
    services.number_receipt(card=card, actor=operator)
