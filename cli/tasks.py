"""CLI commands that act on tasks, each a thin layer over ``TaskcraftClient``."""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from typing import Any

from cli.render import render_audit, render_history, render_status
from taskcraft.controls import ControlAction, ControlRequest, UpdateOutcome
from taskcraft.errors import InvalidInputError
from taskcraft.schedules import placeholders_in
from taskcraft.status import TaskStatus
from taskcraft_client import TaskcraftClient, TaskTree


def parse_inputs(pairs: list[str]) -> dict[str, str]:
    inputs: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"--input {pair!r} must look like KEY=VALUE")
        if key.strip() in inputs:
            raise InvalidInputError(f"--input {key.strip()} is given twice")
        inputs[key.strip()] = value
    return inputs


def _emit(data: Any, as_json: bool, text: str) -> None:
    print(json.dumps(data, indent=2, default=str) if as_json else text)


def note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr)


async def start(client: TaskcraftClient, args: Namespace) -> int:
    route = [part.strip() for part in (args.model or "").split(",") if part.strip()] or None
    inputs = parse_inputs(args.input or [])
    try:
        started = await client.start(
            args.agent,
            goal=args.goal,
            inputs=inputs,
            task_id=args.id,
            model=route,
            policy=args.policy,
        )
    except InvalidInputError as error:
        if any(placeholders_in(value) for value in inputs.values()):
            raise InvalidInputError(
                f"{error} ({{placeholders}} are resolved only in tasks a schedule starts: "
                "give the value itself)"
            ) from None
        raise
    print(f"Started task {started.task_id}")
    print(f"Temporal UI: {started.url}")
    if not args.wait:
        return 0
    state = await client.wait(started.task_id)
    if state.status is not TaskStatus.COMPLETED:
        print(
            f"Task {started.task_id} {state.status.value}: {state.error or 'see taskcraft history'}"
        )
        return 1
    print(f"Task {started.task_id} {state.status.value} after {state.step} steps")
    print(state.result or "")
    return 0


async def status(client: TaskcraftClient, args: Namespace) -> int:
    reading = await client.read(args.task_id)
    if reading.note:
        note(reading.note)
    state = reading.state
    _emit(state.model_dump(mode="json"), args.json, render_status(state, client.url(state.task_id)))
    return 0


def history_json(tree: TaskTree) -> dict[str, Any]:
    """The timeline as data; an agent call's ``child`` holds the child task's own."""
    steps = [step.model_dump(mode="json") for state in tree.runs for step in state.steps]
    for step in steps:
        for call in step["tool_calls"]:
            child = tree.children.get(call.get("child_task_id") or "")
            if child is not None:
                call["child"] = history_json(child)
    last = tree.state
    return {
        "task_id": last.task_id,
        "parent_task_id": last.parent_task_id,
        "status": last.status,
        "steps": steps,
        "decisions": [d.model_dump(mode="json") for d in last.decisions],
    }


async def history(client: TaskcraftClient, args: Namespace) -> int:
    tree = await client.tree(args.task_id)
    text = render_history(tree.runs, children=tree.children)
    _emit(history_json(tree), args.json, text)
    return 0


async def audit(client: TaskcraftClient, args: Namespace) -> int:
    states = await client.runs(args.task_id)
    records = [record.model_dump(mode="json") for state in states for record in state.audit]
    data = {
        "task_id": args.task_id,
        "policy": states[-1].policy_name,
        "policy_hash": states[-1].policy_hash,
        "decisions": records,
    }
    _emit(data, args.json, render_audit(states))
    return 0


async def list_tasks(client: TaskcraftClient, args: Namespace) -> int:
    rows = await client.list_tasks(
        status=args.status, agent=args.agent, schedule=args.schedule, limit=args.limit
    )
    data = [
        {
            "task_id": r.task_id,
            "status": r.status,
            "agent": r.agent,
            "started": r.started.isoformat(),
            "closed": r.closed,
            "parent": r.parent,
            "schedule": r.schedule,
        }
        for r in rows
    ]
    text = "\n".join(
        f"{r.task_id:<40} {r.status:<18} {r.agent:<20} {r.started.isoformat()[:19]}"
        + (f"  (called by {r.parent})" if r.parent else "")
        + (f"  (schedule {r.schedule})" if r.schedule else "")
        for r in rows
    )
    _emit(data, args.json, text or "No tasks match.")
    return 0


async def pending(client: TaskcraftClient, args: Namespace) -> int:
    states, problems = await client.pending()
    for problem in problems:
        note(problem)
    rows = []
    lines = []
    for state in states:
        what = (
            f"gate {state.pending.gate_id}: {state.pending.title}"
            if state.pending
            else f"paused by {state.paused_by}"
        )
        who = ", ".join(state.pending.allowed_approvers()) if state.pending else "-"
        rows.append(
            {
                "task_id": state.task_id,
                "parent_task_id": state.parent_task_id,
                "agent": state.agent,
                "status": state.status,
                "waiting_for": what,
                "approvers": who or "any",
                "since": (state.pending.asked_at if state.pending else state.updated_at),
            }
        )
        called = f" (called by {state.parent_task_id})" if state.parent_task_id else ""
        lines.append(
            f"{state.task_id:<36} {state.status.value:<18} {what} (who: {who or 'any'}){called}"
        )
    _emit(rows, args.json, "\n".join(lines) or "Nothing is waiting for a human.")
    return 0


async def cancel(client: TaskcraftClient, args: Namespace) -> int:
    await client.cancel(args.task_id)
    print(f"Cancellation requested for {args.task_id}")
    return 0


async def decide(client: TaskcraftClient, args: Namespace) -> int:
    if args.command == "approve":
        outcome = await client.approve(
            args.task_id, approver=args.approver, gate_id=args.gate, comment=args.comment
        )
    elif args.command == "reject":
        outcome = await client.reject(
            args.task_id, approver=args.approver, reason=args.reason, gate_id=args.gate
        )
    else:
        arguments = _edit_arguments(args.args, args.draft)
        outcome = await client.edit(
            args.task_id,
            approver=args.approver,
            arguments=arguments,
            draft=args.draft,
            gate_id=args.gate,
            comment=args.comment,
        )
    return _report(args.task_id, outcome)


def _edit_arguments(raw: str | None, draft: str | None) -> dict[str, Any] | None:
    if raw is None and draft is None:
        raise InvalidInputError("edit needs --args JSON (a tool call) or --draft TEXT (a draft)")
    if raw is None:
        return None
    try:
        arguments = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InvalidInputError(f"--args is not valid JSON: {error.msg}") from None
    if not isinstance(arguments, dict):
        raise InvalidInputError("--args must be a JSON object")
    return arguments


async def control(client: TaskcraftClient, args: Namespace) -> int:
    request = ControlRequest(
        action=ControlAction(args.command), by=args.by, text=getattr(args, "text", "") or ""
    )
    return _report(args.task_id, await client.control(args.task_id, request))


def _report(task_id: str, outcome: UpdateOutcome) -> int:
    print(f"{task_id}: {outcome.message}")
    return 0


def print_error(message: str) -> None:
    print(f"Error: {message}", file=sys.stderr)
