"""How tasks read in a terminal: status, the step timeline, the audit trail, pending gates.

Times are shown in the reader's time zone with how far they are from now
(``Mon 7 Dec 14:05 CET (in 2 days)``); ``--json`` keeps the exact UTC values.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from taskcraft.calls import StopReason
from taskcraft.policy.view import render_call_view
from taskcraft.task import StepRecord, TaskState
from taskcraft.timefmt import human_time, human_time_relative
from taskcraft_client import TaskTree

SYSTEM_ZONE_FILE = "/etc/localtime"


def local_zone() -> tzinfo:
    """The CLI user's time zone, with its summer-time rules: ``$TZ``, else the system's.

    A zone we cannot load by name falls back to the current UTC offset, which is right
    for today's times and off by an hour for dates across a summer-time change.
    """
    name = os.environ.get("TZ", "").removeprefix(":")
    try:
        if name:
            return ZoneInfo(name)
        with open(SYSTEM_ZONE_FILE, "rb") as data:
            return ZoneInfo.from_file(data, key="localtime")
    except (OSError, ValueError, ZoneInfoNotFoundError):
        pass
    return datetime.now().astimezone().tzinfo or UTC


class _Reader:
    """Now and the reader's zone, fixed once per rendering (tests pass their own)."""

    def __init__(self, now: datetime | None, tz: tzinfo | None) -> None:
        self.now = now or datetime.now(UTC)
        self.tz = tz or local_zone()

    def when(self, value: datetime | None) -> str:
        return human_time_relative(value, now=self.now, tz=self.tz)

    def at(self, value: datetime | None) -> str:
        return human_time(value, now=self.now, tz=self.tz) if value else "-"


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines()) if text else prefix + "(empty)"


def render_status(
    state: TaskState, ui_url: str, *, now: datetime | None = None, tz: tzinfo | None = None
) -> str:
    reader = _Reader(now, tz)
    lines = [
        f"Task      {state.task_id}",
        f"Agent     {state.agent}",
        f"Goal      {state.goal}",
        f"Status    {state.status.value}"
        + (f" — {state.status_detail}" if state.status_detail else ""),
        f"Step      {state.step}",
        f"Models    {', '.join(state.models_used) or '-'}"
        + ("  (offline model: deterministic, no provider)" if state.offline_model else ""),
        f"Policy    {state.policy_name or '-'} ({state.policy_hash[:12] or '-'})",
        f"Usage     {state.usage.tokens.total_tokens} tokens, {state.usage.tool_calls} tool calls, "
        f"${state.usage.cost_usd:.4f}",
        f"Updated   {reader.when(state.updated_at)}",
        f"UI        {ui_url}",
    ]
    if state.parent_task_id is not None:
        lines.append(f"Parent    {state.parent_task_id} (its agent called this one)")
    if state.schedule is not None:
        lines.append(f"Schedule  {state.schedule}, fired for {reader.at(state.scheduled_at)}")
    if state.pending is not None:
        pending = state.pending
        lines.append(f"Waiting   gate {pending.gate_id}: {pending.title} ({pending.reason})")
        then = "reject, already escalated" if pending.escalated else pending.on_timeout.value
        lines.append(
            f"Asked     {reader.when(pending.asked_at)}; times out "
            f"{reader.when(pending.timeout_at)}, then {then}"
        )
        if pending.tool is not None:
            lines.append(
                f"Proposed  {pending.tool} {json.dumps(pending.arguments, sort_keys=True)}"
            )
            if pending.view is not None:
                lines.append("Policy\n" + _indent("\n".join(render_call_view(pending.view))))
        if pending.draft is not None:
            lines.append("Draft\n" + _indent(pending.draft))
        lines.append(
            f"Decide    taskcraft approve {state.task_id} --gate {pending.gate_id} --as NAME   |   "
            f'taskcraft reject {state.task_id} --gate {pending.gate_id} --reason "..."'
        )
    if state.recovery is not None:
        lines.append(
            f"Recovery  attempt {state.recovery.attempt}; next try "
            f"{reader.when(state.recovery.next_try_at)}; gives up "
            f"{reader.when(state.recovery.gives_up_at)}; cause: {state.recovery.cause}"
        )
    if state.result is not None:
        lines.append("Result\n" + _indent(state.result))
    if state.error is not None:
        lines.append(f"Error     {state.error}")
    return "\n".join(lines)


_DONE = {"approve": "approved", "reject": "rejected", "edit": "edited and approved"}


def human_actions(state: TaskState, reader: _Reader) -> list[tuple[datetime, str]]:
    """Every person's act on the task, with who and when: decisions, notes, pauses, resumes."""
    acts: list[tuple[datetime, str]] = []
    for decision in state.decisions:
        when = reader.at(decision.at)
        if decision.kind is None:
            acts.append((decision.at, f"⏱ gate {decision.gate_id} timed out at {when}"))
            continue
        line = f"👤 {decision.approver} {_DONE[decision.kind.value]} gate {decision.gate_id}"
        line += f" at {when} (via {decision.via})"
        if not decision.applied:
            line = f"👤 {decision.approver} tried to {decision.kind.value} gate {decision.gate_id}"
            line += f" at {when}: refused, {decision.refusal}"
        if decision.reason:
            line += f"\n     reason: {decision.reason}"
        if decision.comment:
            line += f"\n     comment: {decision.comment}"
        if decision.applied and decision.arguments is not None:
            line += f"\n     new arguments: {json.dumps(decision.arguments, sort_keys=True)}"
        if decision.applied and decision.draft is not None:
            line += "\n     new draft:\n" + _indent(decision.draft, "       ")
        acts.append((decision.at, line))
    for note in state.notes:
        read = f" (read at step {note.seen_at_step})" if note.seen_at_step else " (not read yet)"
        acts.append(
            (note.at, f"👤 {note.author} left a note at {reader.at(note.at)}{read}: {note.text}")
        )
    for control in state.controls:
        verb = {"pause": "paused", "resume": "resumed"}.get(control.action, control.action)
        line = f"👤 {control.by} {verb} the task at {reader.at(control.at)} (step {control.step})"
        if not control.applied:
            line = f"👤 {control.by} asked to {control.action} at {reader.at(control.at)}: {control.detail}"
        acts.append((control.at, line))
    return sorted(acts, key=lambda act: act[0])


def render_history(
    states: Sequence[TaskState],
    *,
    now: datetime | None = None,
    tz: tzinfo | None = None,
    children: Mapping[str, TaskTree] | None = None,
) -> str:
    """One continuous timeline across every run of the task (continue-as-new included),
    with every human action in its place among the steps.

    A call of another agent is followed by that child task's own timeline, indented
    (``children``: its tree from ``TaskcraftClient.tree``).
    """
    reader = _Reader(now, tz)
    last = states[-1]
    out = [f"{last.task_id} · {last.agent} · {last.status.value}", f"Goal: {last.goal}"]
    if last.parent_task_id:
        out.append(f"Called by {last.parent_task_id}")
    out.append("")
    acts = human_actions(last, reader)
    for state in states:
        for step in state.steps:
            while acts and acts[0][0] <= step.started_at:
                out.append(acts.pop(0)[1])
            model = step.model + (" (offline)" if step.offline else "")
            out.append(
                f"Step {step.step} · {model} · {step.usage.total_tokens} tokens · "
                f"{reader.at(step.started_at)}"
            )
            for failure in step.failovers:
                out.append(f"  ! failed over: {failure}")
            out += _how_the_answer_ended(step)
            if step.text:
                out.append("  thought: " + step.text.replace("\n", "\n           "))
            for call in step.tool_calls:
                # A person's decision on this call comes in its place, before its result.
                while acts and call.finished_at is not None and acts[0][0] <= call.finished_at:
                    out.append("  " + acts.pop(0)[1].replace("\n", "\n  "))
                out.append(f"  action:  {call.name} {call.arguments}")
                outcome = call.outcome.value if call.outcome else "pending"
                note = f" (edited by {call.edited_by})" if call.edited_by else ""
                observation = call.observation.replace("\n", "\n           ")
                child = (children or {}).get(call.child_task_id or "")
                if child is not None:
                    nested = render_history(child.runs, now=now, tz=tz, children=child.children)
                    out.append(_indent(nested, "    │ "))
                out.append(f"  observe: [{outcome}]{note} {observation}")
    out += [act for _, act in acts]
    if last.result is not None:
        out += ["", "Result:", _indent(last.result)]
    if last.error is not None:
        out += ["", f"Error: {last.error}"]
    return "\n".join(out)


def _how_the_answer_ended(step: StepRecord) -> list[str]:
    """A cut-off or filtered answer is part of the story: the model did not simply reply."""
    if step.stop_reason is StopReason.CONTENT_FILTER:
        return [f"  ! stopped by the provider's content filter ({step.stop_detail})"]
    if step.stop_reason is StopReason.LENGTH:
        times = "once" if step.continuations == 1 else f"{step.continuations} times"
        return [f"  ! cut off at the output limit ({step.stop_detail}); asked to go on {times}"]
    return []


def render_audit(states: Sequence[TaskState]) -> str:
    rows = [record for state in states for record in state.audit]
    if not rows:
        return "No policy decisions recorded."
    lines = [f"Policy {states[-1].policy_name} · hash {states[-1].policy_hash}"]
    for record in rows:
        lines.append(
            f"step {record.step} {record.tool} → {record.effect.value} (rule {record.rule_id})"
            + (f": {record.reason}" if record.reason else "")
            + f"\n    args {json.dumps(record.arguments, sort_keys=True)}"
        )
    return "\n".join(lines)
