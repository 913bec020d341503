"""What the appointments app records for other apps to act on; notifications listen (the
appointments app never imports them)."""

from django.dispatch import Signal

# Sent inside the transaction that books a place, once the booking row is written: what a
# receiver writes commits or rolls back with the booking. Arguments: booking (Booking).
booking_made = Signal()

# Sent once per booking by the reminder task, inside its transaction that marks the booking
# reminded: what a receiver writes commits with that mark. Arguments: booking (Booking).
booking_reminder_due = Signal()
