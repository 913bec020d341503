"""Writes for appointments: windows, bookings, invitations, the queue and reminders.

One module per noun; this package re-exports their public names, so callers keep
writing `services.book(...)`.
"""

from ektp.appointments.services.booking import (
    ALREADY_BOOKED_MESSAGE,
    book,
    cancel_booking,
    move_booking,
    why_not_bookable,
)
from ektp.appointments.services.common import (
    CODE_ALPHABET,
    CODE_LENGTH,
    IDENTITY_MESSAGE,
    AlreadyBooked,
    AppointmentError,
    NotIdentified,
    QueueError,
    UnknownCode,
    WindowFull,
    WindowUnavailable,
    cutoff_minutes,
    generate_code,
    horizon_days,
    normalise_code,
    window_minutes,
)
from ektp.appointments.services.identity import (
    booking_by_code,
    checked_nik,
    family_of,
    identify_resident,
    resident_by_code,
)
from ektp.appointments.services.invitations import (
    MAX_INVITATIONS,
    invitation_targets,
    invite,
    invite_residents,
)
from ektp.appointments.services.queue import (
    ELDERLY_AGE,
    call_next,
    call_order,
    check_in,
    issue_walk_in,
    mark_no_show,
    mark_served,
    recall,
    remaining_today,
)
from ektp.appointments.services.reminders import bookings_to_remind, remind_day
from ektp.appointments.services.windows import (
    WindowPlan,
    check_bookable_day,
    plan_windows,
    windows_for,
)

# The pages read a point's opening through this package.
from ektp.offices.calendar import opening

__all__ = [
    "ALREADY_BOOKED_MESSAGE",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "ELDERLY_AGE",
    "IDENTITY_MESSAGE",
    "MAX_INVITATIONS",
    "AlreadyBooked",
    "AppointmentError",
    "NotIdentified",
    "QueueError",
    "UnknownCode",
    "WindowFull",
    "WindowPlan",
    "WindowUnavailable",
    "book",
    "booking_by_code",
    "bookings_to_remind",
    "call_next",
    "call_order",
    "cancel_booking",
    "check_bookable_day",
    "check_in",
    "checked_nik",
    "cutoff_minutes",
    "family_of",
    "generate_code",
    "horizon_days",
    "identify_resident",
    "invitation_targets",
    "invite",
    "invite_residents",
    "issue_walk_in",
    "mark_no_show",
    "mark_served",
    "move_booking",
    "normalise_code",
    "opening",
    "plan_windows",
    "recall",
    "remaining_today",
    "remind_day",
    "resident_by_code",
    "why_not_bookable",
    "window_minutes",
    "windows_for",
]
