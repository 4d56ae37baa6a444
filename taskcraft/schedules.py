"""Agents on a schedule: what a schedule is, and the placeholders its inputs may use.

A schedule is a Temporal Schedule that starts an ordinary task of one agent on a cron
expression or an interval, in a time zone. It is written on the command line
(``taskcraft schedule create``) or declared in the agent's file::

    [[schedules]]
    name = "weekly-incidents"
    cron = "0 9 * * MON"          # or: every = "1h"
    tz = "Europe/Berlin"          # default UTC
    overlap = "skip"              # skip (default), buffer_one, allow_all
    catch_up_window = "1h"        # firings missed by less than this still run
    inputs = { week = "{previous_iso_week}", project = "INC" }

An input value may name the firing time through placeholders, resolved in the task's
workflow from the time the schedule fired it (Temporal's ``TemporalScheduledStartTime``),
in the schedule's time zone, so a backfilled or late run sees the time it stands for:

==========================  =========================================================
``{scheduled_time}``        the firing time, ISO 8601 with its offset
``{date}``                  the firing date, 2026-11-23
``{previous_date}``         the day before it
``{iso_week}``              the ISO week of the firing, 2026-W48
``{previous_iso_week}``     the ISO week that just ended, 2026-W47
``{month}``                 the firing month, 2026-11
``{previous_month}``        the month before it
==========================  =========================================================

Only tasks a schedule starts have placeholders resolved; ``taskcraft start`` passes
values exactly as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from taskcraft.durations import Seconds
from taskcraft.errors import InvalidInputError
from taskcraft.inputs import InputSpec, validate_inputs

_SCHEDULE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?#-]+$")
_CRON_MACROS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
# A firing missed by less than this (the server or its workers were down) still runs;
# older ones are dropped: a report for last Monday is not wanted next Friday.
DEFAULT_CATCH_UP_WINDOW_S = 3600.0
# Temporal refuses catch-up windows under ten seconds.
MIN_CATCH_UP_WINDOW_S = 10.0
# Where create-time checks resolve placeholders when no firing time is at hand.
SAMPLE_FIRING = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class OverlapPolicy(StrEnum):
    """What a firing does while the schedule's last task is still running.

    ``skip`` (the default) drops the firing: a task still waiting for approval is not
    joined by another one asking the same question. ``buffer_one`` runs one firing
    once the running task ends; ``allow_all`` runs every firing at once.
    """

    SKIP = "skip"
    BUFFER_ONE = "buffer_one"
    ALLOW_ALL = "allow_all"


def _previous_month(moment: datetime) -> str:
    first = moment.replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def _iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year:04d}-W{week:02d}"


PLACEHOLDERS: dict[str, Any] = {
    "scheduled_time": lambda t: t.isoformat(),
    "date": lambda t: t.date().isoformat(),
    "previous_date": lambda t: (t.date() - timedelta(days=1)).isoformat(),
    "iso_week": _iso_week,
    "previous_iso_week": lambda t: _iso_week(t - timedelta(days=7)),
    "month": lambda t: t.strftime("%Y-%m"),
    "previous_month": _previous_month,
}


def placeholders_in(value: str) -> list[str]:
    return _PLACEHOLDER.findall(value)


def unknown_placeholders(inputs: Mapping[str, str]) -> list[str]:
    found = {name for value in inputs.values() for name in placeholders_in(value)}
    return sorted(found - set(PLACEHOLDERS))


def zone(tz: str) -> ZoneInfo:
    """The named IANA time zone; ``InvalidInputError`` naming it when there is none."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(
            f"unknown time zone {tz!r}; use an IANA name like UTC or Europe/Berlin"
        ) from None


def resolve_placeholders(inputs: Mapping[str, str], fired_at: datetime, tz: str) -> dict[str, str]:
    """``inputs`` with every known placeholder replaced by the firing time's value in ``tz``.

    Pure and deterministic (workflow code calls it); unknown placeholders are left as
    written, for the input check to refuse by name.
    """
    local = fired_at.astimezone(zone(tz))

    def value(found: re.Match[str]) -> str:
        render = PLACEHOLDERS.get(found[1])
        return str(render(local)) if render is not None else found[0]

    return {key: _PLACEHOLDER.sub(value, text) for key, text in inputs.items()}


def check_cron(expression: str) -> str:
    """A cron expression's shape (Temporal checks the rest); the expression, trimmed."""
    text = " ".join(expression.split())
    if text.lower() in _CRON_MACROS:
        return text
    if text.upper().startswith(("CRON_TZ=", "TZ=")):
        raise InvalidInputError(f"cron {expression!r}: give the time zone with tz, not in it")
    fields = text.split(" ")
    if len(fields) != 5 or not all(_CRON_FIELD.match(field) for field in fields):
        raise InvalidInputError(
            f"cron {expression!r} is not a cron expression: write five fields, "
            "minute hour day-of-month month day-of-week (like '0 9 * * MON'), or @daily"
        )
    return text


class ScheduledRun(BaseModel):
    """What a scheduled task's input says about the schedule that started it."""

    name: str
    tz: str = "UTC"


class ScheduleDefinition(BaseModel):
    """A schedule as people write it: which agent, when, with which inputs, and overlap."""

    model_config = ConfigDict(extra="forbid")

    name: str
    agent: str = ""  # an agent file's schedules are its own
    cron: str | None = None
    every_s: Seconds | None = Field(default=None, gt=0)
    tz: str = "UTC"
    goal: str = ""  # empty: the agent's description, as for `taskcraft start`
    inputs: dict[str, str] = Field(default_factory=dict)
    overlap: OverlapPolicy = OverlapPolicy.SKIP
    catch_up_window_s: Seconds = Field(default=DEFAULT_CATCH_UP_WINDOW_S, ge=MIN_CATCH_UP_WINDOW_S)

    @field_validator("name")
    @classmethod
    def _name_shape(cls, name: str) -> str:
        if not _SCHEDULE_NAME.match(name):
            raise ValueError(
                f"schedule name {name!r} must start with a letter and use lower-case letters, "
                "digits and '-' (it is the schedule's id and part of its tasks' ids)"
            )
        return name

    @field_validator("inputs", mode="before")
    @classmethod
    def _inputs_as_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: str(item).lower() if isinstance(item, bool) else str(item)
                for key, item in value.items()
            }
        return value

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, tz: str) -> str:
        try:
            zone(tz)
        except InvalidInputError as error:
            raise ValueError(str(error)) from None
        return tz

    @model_validator(mode="after")
    def _one_timing(self) -> ScheduleDefinition:
        if (self.cron is None) == (self.every_s is None):
            raise ValueError(f"schedule {self.name!r} needs exactly one of cron or every")
        if self.cron is not None:
            try:
                self.cron = check_cron(self.cron)
            except InvalidInputError as error:
                raise ValueError(str(error)) from None
        unknown = unknown_placeholders(self.inputs)
        if unknown:
            raise ValueError(
                f"schedule {self.name!r}: unknown placeholder "
                + ", ".join("{" + name + "}" for name in unknown)
                + " (known: "
                + ", ".join("{" + name + "}" for name in PLACEHOLDERS)
                + ")"
            )
        return self

    @property
    def timing(self) -> str:
        """``0 9 * * MON Europe/Berlin`` or ``every 3600s``, for people."""
        if self.cron is not None:
            return f"{self.cron} ({self.tz})"
        return f"every {_duration(self.every_s or 0)}"

    def checked_inputs(
        self, specs: list[InputSpec], *, at: datetime = SAMPLE_FIRING
    ) -> dict[str, str]:
        """Inputs as they are stored: checked (placeholders resolved at ``at``) like a start's.

        Values without placeholders are stored normalised; ones with placeholders as
        written, to be resolved at each firing. Defaults are filled when a task starts.
        """
        resolved = resolve_placeholders(self.inputs, at, self.tz)
        normalised = validate_inputs(self.agent, specs, resolved)
        return {
            key: value if placeholders_in(value) else normalised[key]
            for key, value in self.inputs.items()
        }


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
