"""What the suket app records for other apps to act on; notifications listen (the suket app
never imports them)."""

from django.dispatch import Signal

# Sent once per suket by the delivery task, after the issue has committed, inside the task's
# transaction that marks the suket delivered: what a receiver writes commits with that mark.
# Arguments: suket (Suket, with resident and office), pdf (the signed PDF, bytes).
suket_issued = Signal()
