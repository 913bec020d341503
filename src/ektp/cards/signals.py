"""What the cards app records for other apps to act on (naskah numbers the letters it issues;
the cards app never imports naskah)."""

import logging

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

# Sent inside the transaction that submits a blank request; argument: blank_request.
blank_request_submitted = Signal()
# Sent inside the transaction that hands a printed card over; arguments: card (the CardPrint),
# operator (who handed it over).
card_handed_over = Signal()


def announce(signal: Signal, **kwargs) -> None:
    """Send signal to its receivers in a savepoint: their writes commit with the change, and
    a receiver's failure is logged and never undoes it."""
    try:
        with transaction.atomic():
            signal.send(sender=None, **kwargs)
    except Exception:
        log.exception("receivers of %s failed", signal)
