"""Times as a person reads them: ``Mon 7 Dec 14:05 CET``, ``in 2 days``, ``3 minutes ago``.

Pure and deterministic, so workflow code may import it: no clock, no environment, no
locale. The caller passes ``now`` (``workflow.now()`` in a workflow) and the time zone
(the reader's, or UTC where the reader is unknown). Naive datetimes are taken as UTC:
every time Taskcraft stores is UTC-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

__all__ = ["human_time", "human_time_relative", "relative", "span", "zone_name"]

# English names, not strftime's: %a and %b follow the process's locale.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def zone_name(local: datetime) -> str:
    """``CET``, ``UTC``; a zone known only by its offset reads ``UTC+05:30``."""
    name = local.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = local.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    sign = "+" if offset > timedelta(0) else "-"
    minutes = int(abs(offset).total_seconds()) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def human_time(at: datetime, *, now: datetime, tz: tzinfo) -> str:
    """``Mon 7 Dec 14:05 CET`` in ``tz``; the year is added when it is not ``now``'s."""
    local = _aware(at).astimezone(tz)
    year = "" if local.year == _aware(now).astimezone(tz).year else f" {local.year}"
    return (
        f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}{year} "
        f"{local:%H:%M} {zone_name(local)}"
    )


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


def span(seconds: float) -> str:
    """A length of time, rounded down: ``45 seconds``, ``1 hour 20 minutes``, ``5 days``.

    Below three hours or three days the next unit is kept, where it changes a decision.
    """
    whole = int(abs(seconds))
    if whole < 60:
        return _count(whole, "second")
    minutes = whole // 60
    if minutes < 60:
        return _count(minutes, "minute")
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        rest = f" {_count(minutes, 'minute')}" if hours < 3 and minutes else ""
        return _count(hours, "hour") + rest
    days, hours = divmod(hours, 24)
    rest = f" {_count(hours, 'hour')}" if days < 3 and hours else ""
    return _count(days, "day") + rest


def relative(at: datetime, *, now: datetime) -> str:
    """``in 2 days``, ``3 minutes ago`` or ``now`` (within a second)."""
    seconds = (_aware(at) - _aware(now)).total_seconds()
    if abs(seconds) < 1:
        return "now"
    return f"in {span(seconds)}" if seconds > 0 else f"{span(seconds)} ago"


def human_time_relative(at: datetime | None, *, now: datetime, tz: tzinfo) -> str:
    """``Mon 7 Dec 14:05 CET (in 2 days)``; ``-`` for a time that is not set."""
    if at is None:
        return "-"
    return f"{human_time(at, now=now, tz=tz)} ({relative(at, now=now)})"
