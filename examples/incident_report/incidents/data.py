"""The weekly incident report, as data: tickets and log events in, statistics and a draft out.

Neutral and pure (standard library and pydantic only) because both the deterministic
workflow code and the offline model import it: nothing here reads a clock, the
environment or a file, and every list and mapping is built in a sorted order, so the
same tickets always give the same report, byte for byte.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from statistics import mean
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator

ERROR_LEVELS = frozenset({"ERROR", "CRITICAL", "FATAL"})
NOTABLE_LIMIT = 5
TOP_ERRORS_LIMIT = 8
NO_COMPONENT = "(none)"
# The draft lists this many recurring failures (labels, the named themes, before components),
# each with this many ticket keys; the stats keep them all.
RECURRING_SHOWN = 8
KEYS_SHOWN = 5

# Jira ships Highest..Lowest; many incident projects rename them P1..P5 or Blocker..Trivial.
_PRIORITY_RANKS = {
    "highest": 1, "blocker": 1, "critical": 1, "p1": 1, "sev1": 1,
    "high": 2, "major": 2, "p2": 2, "sev2": 2,
    "medium": 3, "p3": 3, "sev3": 3,
    "low": 4, "minor": 4, "p4": 4, "sev4": 4,
    "lowest": 5, "trivial": 5, "p5": 5,
}  # fmt: skip
_UNKNOWN_PRIORITY_RANK = 9
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def _as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC: every time we store is UTC-aware."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


def priority_rank(priority: str) -> int:
    """1 for the most urgent; ``"P1 - Critical"`` ranks by its first word."""
    words = priority.strip().lower().replace("-", " ").split()
    if not words:
        return _UNKNOWN_PRIORITY_RANK
    return _PRIORITY_RANKS.get(words[0], _UNKNOWN_PRIORITY_RANK)


class Ticket(BaseModel):
    key: str
    summary: str
    priority: str
    status: str
    created: UtcDatetime
    resolved: UtcDatetime | None = None
    labels: list[str] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)

    @property
    def hours_to_resolve(self) -> float | None:
        if self.resolved is None:
            return None
        return (self.resolved - self.created).total_seconds() / 3600


class LogEvent(BaseModel):
    timestamp: UtcDatetime
    level: str
    service: str
    message: str

    @field_validator("level")
    @classmethod
    def _canonical_level(cls, value: str) -> str:
        level = value.strip().upper()
        return {"WARNING": "WARN", "ERR": "ERROR"}.get(level, level)


class ReportWindow(BaseModel):
    """A half-open interval [start, end) in UTC."""

    start: UtcDatetime
    end: UtcDatetime

    @model_validator(mode="after")
    def _ordered(self) -> ReportWindow:
        if self.end <= self.start:
            raise ValueError("a report window must end after it starts")
        return self

    @classmethod
    def from_iso_week(cls, week: str) -> ReportWindow:
        """``"2026-W47"`` -> Monday 16 Nov 2026 00:00 UTC up to the next Monday."""
        match = _ISO_WEEK.match(week.strip())
        if match is None:
            raise ValueError(f"{week!r} is not an ISO week; write it like 2026-W47")
        try:
            monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError as exc:
            raise ValueError(f"{week!r} is not a week of that year: {exc}") from exc
        start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
        return cls(start=start, end=start + timedelta(days=7))

    @property
    def label(self) -> str:
        """The ISO week when the window is exactly one, else the date range."""
        year, week, weekday = self.start.isocalendar()
        is_week = weekday == 1 and self.start.time() == datetime.min.time()
        if is_week and self.end - self.start == timedelta(days=7):
            return f"{year}-W{week:02d}"
        return f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"

    def contains(self, moment: datetime) -> bool:
        return self.start <= _as_utc(moment) < self.end

    def jira_jql(self, project: str) -> str:
        """The query the report runs; the sample Jira source understands exactly this form."""
        return (
            f'project = {project} AND created >= "{self.start:%Y-%m-%d}" '
            f'AND created < "{self.end:%Y-%m-%d}" ORDER BY created ASC'
        )


class RecurringFailure(BaseModel):
    kind: str  # "component" or "label"
    name: str
    count: int
    keys: list[str]  # in the order the tickets were created


class NotableIncident(BaseModel):
    key: str
    summary: str
    priority: str
    status: str
    components: list[str]
    hours_to_resolve: float | None = None


class IncidentStats(BaseModel):
    total: int = 0
    open: int = 0
    resolved: int = 0
    by_priority: dict[str, int] = Field(default_factory=dict)  # most urgent first
    by_component: dict[str, int] = Field(default_factory=dict)  # most incidents first
    by_status: dict[str, int] = Field(default_factory=dict)
    mttr_hours: float | None = None  # mean time to resolve, over resolved tickets
    mttr_hours_by_priority: dict[str, float] = Field(default_factory=dict)
    recurring_failures: list[RecurringFailure] = Field(default_factory=list)
    notable: list[NotableIncident] = Field(default_factory=list)


class ErrorPattern(BaseModel):
    """Error messages that differ only in numbers, ids or hex, counted as one."""

    pattern: str
    count: int
    services: list[str]
    example: str
    first_seen: UtcDatetime
    last_seen: UtcDatetime


class LogSummary(BaseModel):
    total: int = 0
    by_level: dict[str, int] = Field(default_factory=dict)
    by_service: dict[str, int] = Field(default_factory=dict)
    errors_by_service: dict[str, int] = Field(default_factory=dict)
    top_errors: list[ErrorPattern] = Field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(count for level, count in self.by_level.items() if level in ERROR_LEVELS)


def _by_count(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def compute_stats(tickets: list[Ticket]) -> IncidentStats:
    """Headline numbers, breakdowns, MTTR, recurring themes and the most urgent tickets."""
    ordered = sorted(tickets, key=lambda t: (t.created, t.key))
    resolved = [t for t in ordered if t.resolved is not None]
    priorities = Counter(t.priority for t in ordered)
    by_priority = {
        name: priorities[name] for name in sorted(priorities, key=lambda p: (priority_rank(p), p))
    }
    components = Counter(c for t in ordered for c in (t.components or [NO_COMPONENT]))
    hours_by_priority: dict[str, list[float]] = defaultdict(list)
    for ticket in resolved:
        hours_by_priority[ticket.priority].append(ticket.hours_to_resolve or 0.0)
    mttr_by_priority = {
        name: round(mean(hours_by_priority[name]), 1)
        for name in by_priority
        if name in hours_by_priority
    }
    mttr = round(mean(t.hours_to_resolve or 0.0 for t in resolved), 1) if resolved else None
    return IncidentStats(
        total=len(ordered),
        open=len(ordered) - len(resolved),
        resolved=len(resolved),
        by_priority=by_priority,
        by_component=_by_count(components),
        by_status=_by_count(Counter(t.status for t in ordered)),
        mttr_hours=mttr,
        mttr_hours_by_priority=mttr_by_priority,
        recurring_failures=_recurring(ordered),
        notable=_notable(ordered),
    )


def _recurring(tickets: list[Ticket]) -> list[RecurringFailure]:
    keys: dict[tuple[str, str], list[str]] = defaultdict(list)
    for ticket in tickets:
        for component in sorted(set(ticket.components)):
            keys[("component", component)].append(ticket.key)
        for label in sorted(set(ticket.labels)):
            keys[("label", label)].append(ticket.key)
    found = [
        RecurringFailure(kind=kind, name=name, count=len(ks), keys=ks)
        for (kind, name), ks in keys.items()
        if len(ks) >= 2
    ]
    return sorted(found, key=lambda r: (-r.count, r.kind, r.name))


def _notable(tickets: list[Ticket]) -> list[NotableIncident]:
    urgent = sorted(tickets, key=lambda t: (priority_rank(t.priority), t.created, t.key))
    return [
        NotableIncident(
            key=t.key,
            summary=t.summary,
            priority=t.priority,
            status=t.status,
            components=sorted(t.components),
            hours_to_resolve=None if t.resolved is None else round(t.hours_to_resolve or 0.0, 1),
        )
        for t in urgent[:NOTABLE_LIMIT]
    ]


# Order matters: the specific shapes first, so a UUID is not eaten digit by digit.
_NORMALISERS = [
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "{uuid}"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "{ip}"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "{hex}"),
    (re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{8,}\b", re.I), "{hex}"),
    (re.compile(r"\b\d+(?:\.\d+)?(ms|s|m|h|[kmg]i?b|%)?\b", re.I), r"{n}\1"),
    (re.compile(r"\b[a-z]{2,5}_[a-z0-9]{6,}\b", re.I), "{id}"),  # ord_x8f2k1c, ch_3Nkq...
    (re.compile(r"\b(?=\w*\d)\w{5,}\b"), "{id}"),
    (re.compile(r"\d+"), "{n}"),
]  # fmt: skip


def normalise_message(message: str) -> str:
    """Replace what varies between repeats (ids, numbers, hex) so repeats group together."""
    text = " ".join(message.split())
    for pattern, replacement in _NORMALISERS:
        text = pattern.sub(replacement, text)
    return text


def summarise_logs(events: list[LogEvent]) -> LogSummary:
    """Counts by level and service, and the error messages that keep coming back."""
    ordered = sorted(events, key=lambda e: (e.timestamp, e.service, e.level, e.message))
    errors = [e for e in ordered if e.level in ERROR_LEVELS]
    groups: dict[str, list[LogEvent]] = defaultdict(list)
    for event in errors:
        groups[normalise_message(event.message)].append(event)
    patterns = [
        ErrorPattern(
            pattern=pattern,
            count=len(group),
            services=sorted({e.service for e in group}),
            example=group[0].message,
            first_seen=group[0].timestamp,
            last_seen=group[-1].timestamp,
        )
        for pattern, group in groups.items()
    ]
    patterns.sort(key=lambda p: (-p.count, p.pattern))
    return LogSummary(
        total=len(ordered),
        by_level=_by_count(Counter(e.level for e in ordered)),
        by_service=_by_count(Counter(e.service for e in ordered)),
        errors_by_service=_by_count(Counter(e.service for e in errors)),
        top_errors=patterns[:TOP_ERRORS_LIMIT],
    )


def _escape(text: str) -> str:
    """Slack mrkdwn reserves &, < and > (for links and mentions), so they are escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _hours(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} h"


def _counts_line(counts: dict[str, int]) -> str:
    return " · ".join(f"{_escape(name)} {count}" for name, count in counts.items())


def _keys(keys: list[str]) -> str:
    shown = ", ".join(_escape(key) for key in keys[:KEYS_SHOWN])
    return shown + (f" and {len(keys) - KEYS_SHOWN} more" if len(keys) > KEYS_SHOWN else "")


def render_report_markdown(stats: IncidentStats, logs: LogSummary, window: ReportWindow) -> str:
    """A Slack mrkdwn draft of the weekly report; the same inputs always give the same text."""
    last_day = window.end - timedelta(microseconds=1)
    lines = [
        f"*Weekly incident report: {window.label}*",
        f"_{window.start:%a %d %b %Y} to {last_day:%a %d %b %Y} (UTC)_",
        "",
        "*Headline*",
        f"• *{stats.total}* incidents opened: *{stats.resolved}* resolved, *{stats.open}* still open",
        f"• Mean time to resolve: *{_hours(stats.mttr_hours)}* over {stats.resolved} resolved",
        f"• {logs.errors} error log events out of {logs.total} scanned",
        "",
        "*By priority*",
    ]
    for name, count in stats.by_priority.items():
        mttr = stats.mttr_hours_by_priority.get(name)
        suffix = f" (MTTR {_hours(mttr)})" if mttr is not None else ""
        lines.append(f"• {_escape(name)}: {count}{suffix}")
    lines += ["", "*By component*"]
    lines += [f"• {_escape(name)}: {count}" for name, count in stats.by_component.items()]
    if stats.by_status:
        lines += ["", f"*By status*: {_counts_line(stats.by_status)}"]
    lines += ["", "*Recurring failures*"]
    lines += [
        f"• {r.kind} `{_escape(r.name)}`: {r.count} incidents ({_keys(r.keys)})"
        for r in sorted(stats.recurring_failures, key=lambda r: r.kind != "label")[:RECURRING_SHOWN]
    ] or ["• _None this week._"]
    lines += ["", "*Notable incidents*"]
    for incident in stats.notable:
        where = f" ({_escape(', '.join(incident.components))})" if incident.components else ""
        outcome = (
            f"resolved in {_hours(incident.hours_to_resolve)}"
            if incident.hours_to_resolve is not None
            else _escape(incident.status)
        )
        lines.append(
            f"• *{_escape(incident.key)}* [{_escape(incident.priority)}, {outcome}] "
            f"{_escape(incident.summary)}{where}"
        )
    if not stats.notable:
        lines.append("• _None this week._")
    lines += ["", "*Top log errors*"]
    lines += [
        f"• `{_escape(p.pattern)}`: {p.count} events ({_escape(', '.join(p.services))})"
        for p in logs.top_errors
    ] or ["• _No errors logged._"]
    return "\n".join(lines) + "\n"
