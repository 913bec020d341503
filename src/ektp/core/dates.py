"""Days typed by users (query parameters, forms): kept within a range where date
arithmetic cannot leave the calendar (Python's dates end at 0001-01-01 and 9999-12-31, and
a page that adds a day to the last one, or a time zone to the first, fails)."""

from __future__ import annotations

import datetime as dt

from ektp.core.errors import DomainError

KTP_EL_BEGAN = dt.date(2011, 1, 1)  # no recording, snapshot or card before this year


class DayOutOfRange(DomainError, ValueError):
    """A typed day lies outside the range a page or endpoint works with; the message says it."""

    rule = "day_out_of_range"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def check_day(
    day: dt.date, *, earliest: dt.date, latest: dt.date, what: str = "Tanggal"
) -> dt.date:
    """Return day when it lies within [earliest, latest], else raise DayOutOfRange."""
    if not earliest <= day <= latest:
        raise DayOutOfRange(
            f"{what} harus antara {earliest:%d-%m-%Y} dan {latest:%d-%m-%Y} "
            f"(yang diisi {day:%d-%m-%Y})."
        )
    return day
