"""When a page may go out: the next moment inside the configured office hours (pure).

DESIGN behaviour 6: an office-hours policy (timezone, days, hours) holds a page until the
next window. The window itself (`OfficeHours.contains`) is the settings' rule; this module
only finds the next moment it holds.
"""

from __future__ import annotations

import datetime as dt

from .._settings._mapping import OfficeHours

__all__ = ["next_send_time"]


def next_send_time(hours: OfficeHours, now: dt.datetime) -> dt.datetime:
    """`now` when it lies inside `hours`, else the start of the next window (in UTC).

    Example:
        >>> hours = OfficeHours(timezone="Europe/Paris")
        >>> saturday = dt.datetime(2026, 3, 7, 2, 0, tzinfo=dt.UTC)  # 03:00 in Paris
        >>> next_send_time(hours, saturday).isoformat()
        '2026-03-09T08:00:00+00:00'

    Raises:
        ValueError: `now` is naive, or `hours` lists no days.
    """
    if now.tzinfo is None:
        raise ValueError("next_send_time needs an aware datetime")
    if not hours.days:
        raise ValueError("office hours list no days: a page could never go out")
    if hours.contains(now):
        return now
    local = now.astimezone(hours.zone)
    # A window opens on one of the next eight local days (the same weekday a week on at most).
    for ahead in range(8):
        day = local.date() + dt.timedelta(days=ahead)
        if day.weekday() not in hours.days:
            continue
        start = dt.datetime.combine(day, hours.start, tzinfo=hours.zone)
        if start > local:
            return start.astimezone(dt.UTC)
    raise AssertionError("unreachable: some listed weekday starts within eight days")
