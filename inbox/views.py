"""What the task page shows, and how a posted decision form becomes a ``Decision``.

Pure functions over ``TaskState``: no Temporal, no HTTP, so they are easy to read and test.

Times read ``Mon 7 Dec 14:05 UTC (in 2 days)``: a page shared by approvers anywhere
cannot know the reader's zone (it runs no script), so it names UTC and says how far away.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from taskcraft.approvals import Decision, DecisionKind, DecisionRecord, GateKind
from taskcraft.links import task_ui_url
from taskcraft.task import TaskState
from taskcraft.timefmt import human_time, human_time_relative

PAGE_ZONE = UTC

KIND_TITLES = {
    DecisionKind.APPROVE: "Approved",
    DecisionKind.REJECT: "Rejected",
    DecisionKind.EDIT: "Approved with changes",
}


@dataclass(frozen=True)
class DecisionForm:
    """A posted decision form: what was typed (shown again on error) and what it means."""

    kind: str
    comment: str = ""
    reason: str = ""
    arguments: str = ""  # the JSON text as typed
    draft: str = ""
    error: str = ""
    decision: Decision | None = None

    def with_error(self, error: str) -> DecisionForm:
        return replace(self, error=error, decision=None)


def parse_decision(form: dict[str, str], *, approver: str, gate_id: str) -> DecisionForm:
    """Check the form the way the CLI checks its flags; the workflow has the last word."""
    kind_text = form.get("kind", "")
    typed = DecisionForm(
        kind=kind_text,
        comment=form.get("comment", "").strip(),
        reason=form.get("reason", "").strip(),
        arguments=form.get("arguments", ""),
        draft=form.get("draft", ""),
    )
    try:
        kind = DecisionKind(kind_text)
    except ValueError:
        return typed.with_error(f"Unknown decision {kind_text!r}: use approve, reject or edit.")
    if kind is DecisionKind.REJECT and not typed.reason:
        return typed.with_error("A rejection needs a reason; it is passed back to the agent.")
    arguments: dict[str, Any] | None = None
    draft: str | None = None
    if kind is DecisionKind.EDIT:
        if "arguments" in form:
            try:
                parsed = json.loads(typed.arguments)
            except json.JSONDecodeError as error:
                return typed.with_error(
                    f"The arguments are not valid JSON: {error.msg} "
                    f"(line {error.lineno}, column {error.colno}). Nothing was changed."
                )
            if not isinstance(parsed, dict):
                return typed.with_error("The arguments must be a JSON object. Nothing was changed.")
            arguments = parsed
        else:
            draft = typed.draft
    decision = Decision(
        kind=kind,
        approver=approver,
        gate_id=gate_id,
        comment=typed.comment,
        reason=typed.reason,
        arguments=arguments,
        draft=draft,
    )
    return replace(typed, decision=decision)


def describe_record(record: DecisionRecord) -> str:
    if record.kind is None:
        return f"closed at timeout ({record.reason})"
    return f"{KIND_TITLES[record.kind].lower()} by {record.approver}"


def page_time(value: datetime | None, *, now: datetime) -> str:
    """A time on a page: ``Mon 7 Dec 14:05 UTC``, or ``-``."""
    return human_time(value, now=now, tz=PAGE_ZONE) if value else "-"


def gate_notice(
    state: TaskState, gate_id: str | None, principal_name: str, *, now: datetime | None = None
) -> str:
    """Why the forms are not shown for this gate, or "" when the person may decide it."""
    if gate_id is None:
        return "This task is not waiting for a decision."
    decided = [r for r in state.decisions if r.gate_id == gate_id and r.applied]
    if decided:
        record = decided[-1]
        when = human_time_relative(record.at, now=now or datetime.now(UTC), tz=PAGE_ZONE)
        notice = (
            f"Gate {gate_id} was already decided: {describe_record(record)} at {when}. "
            "Nothing more to do."
        )
        if state.pending is not None:
            notice += f" The task now waits at gate {state.pending.gate_id}: {state.pending.title}."
        return notice
    if state.status.is_terminal:
        return f"This task is already {state.status.value}; there is nothing to decide."
    pending = state.pending
    if pending is None or pending.gate_id != gate_id:
        return f"Gate {gate_id} is not waiting for a decision now."
    allowed = pending.allowed_approvers()
    if allowed and principal_name not in allowed:
        return (
            f"{principal_name} may not decide gate {gate_id} (allowed: {', '.join(allowed)}). "
            "Use the link from your own notification."
        )
    return ""


def task_context(
    runs: list[TaskState],
    *,
    gate_id: str | None,
    principal_name: str,
    ui_url: str,
    namespace: str,
    form: DecisionForm | None,
    focus: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    state = runs[-1]
    pending = state.pending
    gate = gate_id or (pending.gate_id if pending is not None else None)
    notice = gate_notice(state, gate, principal_name, now=now)
    shown = pending if pending is not None and pending.gate_id == gate else None
    edit_arguments, edit_draft = "", ""
    if shown is not None and shown.kind is GateKind.TOOL_CALL:
        edit_arguments = json.dumps(shown.arguments or {}, indent=2, ensure_ascii=False)
    if shown is not None and shown.kind is GateKind.CHECKPOINT:
        edit_draft = shown.draft or ""
    if form is not None and form.kind == DecisionKind.EDIT.value:  # show what was typed
        edit_arguments, edit_draft = form.arguments, form.draft
    return {
        "state": state,
        "steps": [step for run in runs for step in run.steps],
        "gate_id": gate,
        "pending": shown,
        "approvers": (", ".join(shown.allowed_approvers()) or "any operator") if shown else "",
        "can_decide": shown is not None and not notice,
        "notice": notice,
        "worker_note": None,  # the app sets it when the record came from history
        "can_edit": shown is not None and shown.kind is not GateKind.BUDGET,
        "edit_arguments": edit_arguments,
        "edit_draft": edit_draft,
        "form": form,
        "focus": focus if focus in ("approve", "reject", "edit") else "",
        "ui_link": task_ui_url(ui_url, namespace, state.task_id),
        "describe_record": describe_record,
        # Times as the page shows them; ``when`` adds how far from now.
        "at": partial(page_time, now=now),
        "when": partial(human_time_relative, now=now, tz=PAGE_ZONE),
    }
