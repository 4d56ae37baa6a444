"""Log events over a time window, from JSON-lines files or AWS CloudWatch Logs.

The tool returns a ``LogSummary`` (counts and recurring errors), never the raw events:
a week of logs would not fit in a workflow payload, and the report needs only the shape.

``TASKCRAFT_LOG_SOURCE`` picks the source. ``local`` (the default) reads ``*.jsonl``
files in ``TASKCRAFT_LOG_DIR``, or the shipped sample logs when that is unset or
``TASKCRAFT_SAMPLE_DATA=1``. ``cloudwatch`` calls FilterLogEvents on
``CLOUDWATCH_LOG_GROUP`` in ``AWS_REGION`` (see ``cloudwatch.py``).

``filter_pattern`` means what the source means by it: a CloudWatch filter pattern, or,
locally, a regular expression (a plain substring if it does not compile) searched in
``"LEVEL service message"``. A bare word such as ``timeout`` works on both.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from incidents.connectors.cloudwatch import CloudWatchLogSource, CloudWatchSettings
from incidents.connectors.common import LogBatch, env_flag, sample_data_dir
from incidents.data import LogEvent, LogSummary, summarise_logs
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from taskcraft.errors import ConfigError
from taskcraft.tools import Tool, ToolContext, ToolError, ToolResult

LOG_SOURCES = ("local", "cloudwatch")


@dataclass(frozen=True)
class LogsSettings:
    source: str = "local"
    log_dir: Path | None = None  # None: the shipped sample logs
    cloudwatch: CloudWatchSettings = field(default_factory=CloudWatchSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LogsSettings:
        sample = bool(env_flag(env.get("TASKCRAFT_SAMPLE_DATA")))
        log_dir = env.get("TASKCRAFT_LOG_DIR", "").strip()
        source = env.get("TASKCRAFT_LOG_SOURCE", "").strip().lower() or "local"
        return cls(
            source="local" if sample else source,
            log_dir=Path(log_dir) if log_dir and not sample else None,
            cloudwatch=CloudWatchSettings.from_env(env),
        )

    def problems(self) -> list[str]:
        if self.source not in LOG_SOURCES:
            return [f"TASKCRAFT_LOG_SOURCE must be 'local' or 'cloudwatch', not {self.source!r}."]
        if self.source == "cloudwatch":
            return self.cloudwatch.problems()
        if self.log_dir is not None and not self.log_dir.is_dir():
            return [f"TASKCRAFT_LOG_DIR is {str(self.log_dir)!r}, which is not a folder."]
        return []

    def validate(self) -> None:
        if found := self.problems():
            raise ConfigError(" ".join(found))


def _matcher(pattern: str) -> Callable[[str], bool]:
    if not pattern:
        return lambda _text: True
    try:
        compiled = re.compile(pattern)
    except re.error:
        return lambda text: pattern in text
    return lambda text: compiled.search(text) is not None


class LocalLogSource:
    """JSON-lines files, one ``{"ts", "level", "service", "message"}`` object a line."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    async def query(
        self, start: datetime, end: datetime, filter_pattern: str, max_events: int
    ) -> LogBatch:
        return await asyncio.to_thread(self._read, start, end, _matcher(filter_pattern), max_events)

    def _read(
        self, start: datetime, end: datetime, matches: Callable[[str], bool], limit: int
    ) -> LogBatch:
        if not self._folder.is_dir():
            raise ToolError(
                f"The log folder {self._folder} does not exist; check TASKCRAFT_LOG_DIR."
            )
        events, scanned = [], 0
        for path in sorted(self._folder.glob("*.jsonl")):
            with path.open(encoding="utf-8") as lines:
                for line in lines:
                    event = _local_event(line)
                    if event is None or not start <= event.timestamp < end:
                        continue  # a line that is not an event is skipped, not fatal
                    scanned += 1
                    if matches(f"{event.level} {event.service} {event.message}"):
                        events.append(event)
        events.sort(key=lambda e: (e.timestamp, e.service, e.message))
        return LogBatch(events=events[:limit], scanned=scanned, truncated=len(events) > limit)


def _local_event(line: str) -> LogEvent | None:
    try:
        raw = json.loads(line)
        return LogEvent(
            timestamp=raw["ts"], level=raw["level"], service=raw["service"], message=raw["message"]
        )
    except (ValueError, KeyError, TypeError, ValidationError):
        return None


class QueryLogsArgs(BaseModel):
    start: datetime = Field(
        description="Window start, ISO 8601 (inclusive), e.g. 2026-11-16T00:00:00Z"
    )
    end: datetime = Field(description="Window end, ISO 8601 (exclusive)")
    filter_pattern: str = ""
    max_events: int = Field(default=5000, ge=1, le=50_000)

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _ordered(self) -> QueryLogsArgs:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class QueryLogsResult(BaseModel):
    source: Literal["sample", "local", "cloudwatch"]
    start: datetime
    end: datetime
    filter_pattern: str
    events_scanned: int
    events_summarised: int
    truncated: bool  # max_events was reached; the summary covers the earliest events
    summary: LogSummary


async def _run_query_logs(args: QueryLogsArgs, ctx: ToolContext) -> ToolResult:
    """The whole result for the model to read; the summary, as data, for the workflow."""
    result = await _query(args, ctx)
    data = result.model_dump(mode="json", include={"source", "events_scanned", "summary"})
    return ToolResult(text=result.model_dump_json(indent=1), data=data)


async def _query(args: QueryLogsArgs, ctx: ToolContext) -> QueryLogsResult:
    settings = LogsSettings.from_env(ctx.env)
    start, end = args.start, args.end
    source: Literal["sample", "local", "cloudwatch"]
    try:
        settings.validate()
        if settings.source == "cloudwatch":
            source, reader = "cloudwatch", CloudWatchLogSource(ctx.http, settings.cloudwatch)
            batch = await reader.query(start, end, args.filter_pattern, args.max_events)
        else:
            source = "sample" if settings.log_dir is None else "local"
            folder = settings.log_dir or sample_data_dir(ctx.env) / "logs"
            batch = await LocalLogSource(folder).query(
                start, end, args.filter_pattern, args.max_events
            )
    except ConfigError as exc:
        raise ToolError(str(exc)) from exc
    return QueryLogsResult(
        source=source,
        start=start,
        end=end,
        filter_pattern=args.filter_pattern,
        events_scanned=batch.scanned,
        events_summarised=len(batch.events),
        truncated=batch.truncated,
        summary=summarise_logs(batch.events),
    )


def query_logs_tool() -> Tool[QueryLogsArgs]:
    return Tool(
        name="query_logs",
        description=(
            "Summarise the logs between start and end (ISO 8601): counts by level and "
            "service and the most frequent error messages, with ids and numbers folded. "
            "filter_pattern narrows the events (a CloudWatch filter pattern, or a regex "
            "on local files; a plain word works on both)."
        ),
        args_model=QueryLogsArgs,
        run=_run_query_logs,
        timeout_s=300.0,
    )
