"""What the partners app records for other apps to act on; notifications listen (this app
never imports them)."""

from django.dispatch import Signal

# Sent inside the transaction that hands a KTP-el over to its holder, who may now activate
# the IKD (Identitas Kependudukan Digital). Arguments: resident.
ikd_activation_due = Signal()
