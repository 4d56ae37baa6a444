"""``taskcraft schedule ...``: agents on a schedule, a thin layer over ``client.schedules``."""

from __future__ import annotations

import json
from argparse import Namespace
from datetime import UTC, datetime
from typing import Any

from cli.render import local_zone
from cli.tasks import parse_inputs
from taskcraft.durations import parse_seconds
from taskcraft.errors import InvalidInputError
from taskcraft.schedules import OverlapPolicy, zone
from taskcraft.timefmt import human_time_relative
from taskcraft_client import ScheduleView, TaskcraftClient
from taskcraft_client.schedules import definition_from


def _print(data: Any, as_json: bool, text: str) -> int:
    print(json.dumps(data, indent=2, default=str) if as_json else text)
    return 0


def _seconds(flag: str, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = parse_seconds(value.strip())
    except ValueError as error:
        raise InvalidInputError(f"{flag}: {error}") from None
    return float(seconds)


def _moment(flag: str, value: str, tz: str) -> datetime:
    """A time as given: with a zone, or in the schedule's zone (a date is its midnight)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInputError(
            f"{flag} {value!r} is not a date or time; write 2026-11-01 or 2026-11-01T09:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone(tz))


def _when(moment: datetime | None) -> str:
    return human_time_relative(moment, now=datetime.now(UTC), tz=local_zone())


def render_view(view: ScheduleView) -> str:
    definition = view.definition
    state = "paused" + (f" ({view.note})" if view.note else "") if view.paused else "active"
    lines = [
        f"Schedule  {definition.name}",
        f"Agent     {definition.agent}",
        f"Goal      {view.goal}",
        f"Timing    {definition.timing}",
        f"Inputs    {json.dumps(definition.inputs, sort_keys=True) if definition.inputs else '-'}",
        f"State     {state}",
        f"Overlap   {view.overlap_note}",
        f"Catch-up  firings missed by less than {definition.catch_up_window_s:g}s still run",
        f"Next      {_when(view.next_runs[0]) if view.next_runs and not view.paused else '-'}",
        f"Source    {view.source} · task queue {view.task_queue}",
    ]
    if view.skipped_overlap or view.missed_catch_up:
        lines.append(
            f"Skipped   {view.skipped_overlap} firings while a task still ran, "
            f"{view.missed_catch_up} missed beyond the catch-up window"
        )
    for at, task_id in view.recent:
        lines.append(f"Fired     {_when(at)} → {task_id}")
    return "\n".join(lines)


async def create(client: TaskcraftClient, args: Namespace) -> int:
    fields = {
        "name": args.name,
        "agent": args.agent,
        "cron": args.cron,
        "every_s": _seconds("--every", args.every),
        "tz": args.tz,
        "goal": args.goal or "",
        "inputs": parse_inputs(args.input or []),
        "overlap": args.overlap,
        "catch_up_window_s": _seconds("--catch-up-window", args.catch_up_window),
    }
    definition = definition_from(**{k: v for k, v in fields.items() if v is not None})
    view = await client.schedules.create(definition, paused=args.paused)
    text = f"Created schedule {definition.name}: {definition.agent}, {definition.timing}"
    if view.next_runs and not view.paused:
        text += f"; next run {_when(view.next_runs[0])}"
    return _print(view.to_json(), args.json, text)


async def list_schedules(client: TaskcraftClient, args: Namespace) -> int:
    views = await client.schedules.all()
    rows = [
        f"{v.definition.name:<28} {v.definition.agent:<20} {v.definition.timing:<32} "
        f"{v.definition.overlap.value:<10} "
        + ("paused" if v.paused else f"next {_when(v.next_runs[0]) if v.next_runs else '-'}")
        for v in views
    ]
    return _print([v.to_json() for v in views], args.json, "\n".join(rows) or "No schedules.")


async def show(client: TaskcraftClient, args: Namespace) -> int:
    view = await client.schedules.show(args.name)
    return _print(view.to_json(), args.json, render_view(view))


async def control(client: TaskcraftClient, args: Namespace) -> int:
    """pause, unpause, trigger and delete: one line (or a JSON object) saying what was done."""
    action = args.schedule_command
    schedules = client.schedules
    if action == "pause":
        await schedules.pause(args.name, args.note)
        done = "paused: it fires again once unpaused"
    elif action == "unpause":
        await schedules.unpause(args.name, args.note)
        done = "unpaused"
    elif action == "trigger":
        await schedules.trigger(args.name)
        done = "triggered: it fires now (its overlap policy still applies)"
    else:
        await schedules.delete(args.name)
        done = "deleted (the tasks it started are kept)"
    data = {"schedule": args.name, "action": action}
    return _print(data, args.json, f"Schedule {args.name} {done}")


async def backfill(client: TaskcraftClient, args: Namespace) -> int:
    view = await client.schedules.show(args.name)
    tz = view.definition.tz
    start, end = _moment("--from", args.start, tz), _moment("--to", args.end, tz)
    overlap = OverlapPolicy(args.overlap)
    await client.schedules.backfill(args.name, start, end, overlap)
    data = {
        "schedule": args.name,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "overlap": overlap.value,
    }
    text = (
        f"Backfill of {args.name}: a task for every firing from {start.isoformat()} to "
        f"{end.isoformat()} ({overlap.value}); each sees its own firing time"
    )
    return _print(data, args.json, text)


async def apply(client: TaskcraftClient, args: Namespace) -> int:
    agents = None
    if args.agent:
        spec = client.catalog.agent(args.agent)
        if spec is None:
            raise InvalidInputError(
                f"unknown agent {args.agent!r}; known agents: {client.catalog.known_agents()}"
            )
        agents = [spec]
    outcome = await client.schedules.apply(agents)
    data = [{"schedule": name, "result": result} for name, result in outcome]
    text = "\n".join(f"{result:<10} {name}" for name, result in outcome)
    return _print(data, args.json, text or "No agent declares a schedule.")


COMMANDS = {
    "create": create,
    "list": list_schedules,
    "show": show,
    "pause": control,
    "unpause": control,
    "trigger": control,
    "delete": control,
    "backfill": backfill,
    "apply": apply,
    "sync": apply,
}


async def run(client: TaskcraftClient, args: Namespace) -> int:
    return await COMMANDS[args.schedule_command](client, args)
