"""The clock: what time it is and which day it is, always in UTC.

Every rule that asks "now" or "today" (payments' default time, an invoice's issue day,
whether it is overdue, the day a report covers) asks here, so a day is the same UTC day
everywhere, whatever the server's local time zone.
"""

from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """The current UTC day."""
    return day_of(now())


def day_of(at: dt.datetime) -> dt.date:
    """The UTC day of an aware time (a time without offset is refused: its day is unknown)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no time zone")
    return at.astimezone(dt.UTC).date()


def day_start(day: dt.date) -> dt.datetime:
    """The first instant of a UTC day (the next day's start ends it)."""
    return dt.datetime.combine(day, dt.time(), dt.UTC)
