"""What the enrollment app records for other apps to act on; notifications listen (the
enrollment app never imports them)."""

from django.dispatch import Signal

# Sent inside the transaction that moves a resident to a new KTP-el status, once the history
# row is written: what a receiver writes commits or rolls back with the change (a worker killed
# right after the commit cannot leave the change without its notice). The receivers run in a
# savepoint; a receiver's failure is logged and never undoes the change. Arguments:
# resident (the locked Resident, already at its new status), change (the StatusChange).
status_changed = Signal()
