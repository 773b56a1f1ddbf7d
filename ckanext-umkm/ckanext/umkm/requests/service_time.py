"""Service-time standards counted as the Lampiran counts them: in working
days (no weekends, no Indonesian public holidays, as the release workflow's
deadlines), with the clock stopped while a reviewer waits for the requester
("ask for more information").

A pause is a pair of dates ``(stopped, resumed)``: the days from ``stopped``
up to the day before ``resumed`` do not count. ``resumed`` is None while
the requester has not answered; the deadline is then unknown (None).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable

Pause = tuple[datetime.date, datetime.date | None]


@functools.lru_cache(maxsize=1)
def _calendar() -> object:
    import holidays

    return holidays.country_holidays("ID")


def _counts(day: datetime.date, pauses: list[Pause]) -> bool:
    if not _calendar().is_working_day(day):  # type: ignore[attr-defined]
        return False
    return not any(stopped <= day and (resumed is None or day < resumed) for stopped, resumed in pauses)


def due(start: datetime.date, days: int, pauses: Iterable[Pause] = ()) -> datetime.date | None:
    """The day by which a step started on ``start`` must be done: the
    ``days``-th counting day after ``start`` (the start day itself does not
    count, as with the release workflow). None while a pause is open."""
    pauses = list(pauses)
    if any(resumed is None for _, resumed in pauses):
        return None
    day, left = start, days
    while left > 0:
        day += datetime.timedelta(days=1)
        if _counts(day, pauses):
            left -= 1
    return day


def elapsed(start: datetime.date, end: datetime.date, pauses: Iterable[Pause] = ()) -> int:
    """Counting days after ``start`` up to and including ``end``: how long a
    step took, to set against its standard."""
    pauses = list(pauses)
    day, count = start, 0
    while day < end:
        day += datetime.timedelta(days=1)
        if _counts(day, pauses):
            count += 1
    return count


def is_overdue(start: datetime.date, days: int, today: datetime.date, pauses: Iterable[Pause] = ()) -> bool:
    deadline = due(start, days, pauses)
    return deadline is not None and today > deadline
