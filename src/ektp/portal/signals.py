"""What the portal tells other apps; notifications listen (the portal never imports them)."""

from django.dispatch import Signal

# Sent inside the transaction that records it when a resident asked for a one-time access code. Arguments:
# resident (Resident), code (the plain code: the portal keeps only its hash), access_code_id,
# what (a short description of the document, e.g. "suket 470/12/2026"), minutes (its life).
access_code_requested = Signal()
