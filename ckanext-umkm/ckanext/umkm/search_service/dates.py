"""Solr date values: parsing, formatting and date math (NOW-1DAY/DAY ...).

Dates are kept as integer milliseconds since the epoch (UTC), Solr's own
precision, so they sort and range-query exactly in tantivy integer fields.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import time

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_ISO_RE = re.compile(
    r"^\s*(?P<y>[+-]?\d{4,})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ](?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d+))?)?)?"
    r"\s*(?P<tz>Z|z|[+-]\d{2}:?\d{2}|[+-]\d{2})?\s*$"
)

_UNITS = {
    "YEAR": "YEAR", "YEARS": "YEAR",
    "MONTH": "MONTH", "MONTHS": "MONTH",
    "DAY": "DAY", "DAYS": "DAY", "DATE": "DAY",
    "HOUR": "HOUR", "HOURS": "HOUR",
    "MINUTE": "MINUTE", "MINUTES": "MINUTE",
    "SECOND": "SECOND", "SECONDS": "SECOND",
    "MILLI": "MILLI", "MILLIS": "MILLI", "MILLISECOND": "MILLI", "MILLISECONDS": "MILLI",
}
_MATH_RE = re.compile(r"([+-])(\d+)([A-Za-z]+)|/([A-Za-z]+)")


class DateError(ValueError):
    """A value that is not a valid Solr date."""


def parse_date(value: str) -> int:
    """ISO-8601 date string -> epoch milliseconds (UTC).

    Accepts Solr's canonical form and the variants CKAN produces
    (offsets such as +00:00, no zone = UTC, more than 3 fraction digits).
    """
    m = _ISO_RE.match(value)
    if not m:
        raise DateError(f"Invalid Date String:'{value}'")
    try:
        frac = (m.group("frac") or "0")[:6].ljust(6, "0")
        d = dt.datetime(
            int(m.group("y")), int(m.group("mo")), int(m.group("d")),
            int(m.group("h") or 0), int(m.group("mi") or 0), int(m.group("s") or 0),
            int(frac), tzinfo=dt.UTC,
        )
    except ValueError:
        raise DateError(f"Invalid Date String:'{value}'") from None
    ms = _to_ms(d)
    tz = m.group("tz")
    if tz and tz not in ("Z", "z"):
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        offset_min = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
        ms -= sign * offset_min * 60_000
    return ms


def _to_ms(d: dt.datetime) -> int:
    delta = d - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _from_ms(ms: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(milliseconds=ms)


def format_date(ms: int) -> str:
    """Epoch ms -> Solr's output form, e.g. 2024-01-02T03:04:05Z / ...05.120Z."""
    d = _from_ms(ms)
    base = f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
    millis = d.microsecond // 1000
    return f"{base}.{millis:03d}Z" if millis else f"{base}Z"


def now_ms() -> int:
    return int(time.time() * 1000)


def _add(d: dt.datetime, n: int, unit: str) -> dt.datetime:
    if unit in ("YEAR", "MONTH"):
        months = d.month - 1 + n * (12 if unit == "YEAR" else 1)
        year = d.year + months // 12
        month = months % 12 + 1
        day = min(d.day, calendar.monthrange(year, month)[1])
        return d.replace(year=year, month=month, day=day)
    seconds = {"DAY": 86_400, "HOUR": 3_600, "MINUTE": 60, "SECOND": 1, "MILLI": 0.001}[unit]
    return d + dt.timedelta(seconds=n * seconds)


def _round(d: dt.datetime, unit: str) -> dt.datetime:
    if unit == "YEAR":
        return d.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "MONTH":
        return d.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "DAY":
        return d.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "HOUR":
        return d.replace(minute=0, second=0, microsecond=0)
    if unit == "MINUTE":
        return d.replace(second=0, microsecond=0)
    if unit == "SECOND":
        return d.replace(microsecond=0)
    return d.replace(microsecond=(d.microsecond // 1000) * 1000)


def parse_date_math(value: str, now: int | None = None) -> int:
    """A date or date-math expression (NOW, NOW/DAY-7DAYS, 2020-01-01T00:00:00Z+1MONTH)."""
    value = value.strip()
    if value.upper().startswith("NOW"):
        base = now if now is not None else now_ms()
        math = value[3:]
    else:
        # The date part ends at 'Z' when math follows it.
        zpos = value.find("Z")
        if zpos != -1 and zpos + 1 < len(value):
            base, math = parse_date(value[: zpos + 1]), value[zpos + 1 :]
        else:
            return parse_date(value)
    if not math:
        return base
    d = _from_ms(base)
    pos = 0
    while pos < len(math):
        m = _MATH_RE.match(math, pos)
        if not m:
            raise DateError(f"Invalid Date Math String:'{value}'")
        if m.group(4):
            unit = _UNITS.get(m.group(4).upper())
            if unit is None:
                raise DateError(f"Invalid Date Math String:'{value}'")
            d = _round(d, unit)
        else:
            unit = _UNITS.get(m.group(3).upper())
            if unit is None:
                raise DateError(f"Invalid Date Math String:'{value}'")
            n = int(m.group(2)) * (-1 if m.group(1) == "-" else 1)
            try:
                d = _add(d, n, unit)
            except (OverflowError, ValueError):
                raise DateError(f"Invalid Date Math String:'{value}'") from None
        pos = m.end()
    return _to_ms(d)
