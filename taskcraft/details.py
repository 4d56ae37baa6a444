"""The task's "current details" in the Temporal UI: what it is doing, or what it waits for.

Written for the operator looking at one workflow: when a human is needed it says
exactly how to answer, from the CLI or from the UI's Send Signal dialog.
"""

from __future__ import annotations

import json

from taskcraft.policy.view import render_call_view
from taskcraft.status import TaskStatus
from taskcraft.task import TaskState

DRAFT_SHOWN_CHARS = 3000  # a Slack-sized draft whole; longer ones say where the rest is
RESULT_SHOWN_CHARS = 1500


def clip(text: str, limit: int, rest: str) -> str:
    """``text`` cut at ``limit`` characters, saying how much was left out and where it is."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… ({len(text) - limit} more characters: {rest})"


def render_details(state: TaskState) -> str:
    lines = [f"**{state.status.value}** · agent `{state.agent}` · step {state.step}"]
    if state.offline_model:
        lines.append("Model: offline (deterministic, no provider called)")
    if state.status_detail:
        lines.append(state.status_detail)
    if state.parent_task_id:
        lines.append(f"Called by task `{state.parent_task_id}`")
    if state.schedule:
        lines.append(f"Started by schedule `{state.schedule}`")
    waiting = [
        call.child_task_id
        for call in (state.steps[-1].tool_calls if state.steps else [])
        if call.child_task_id is not None and call.outcome is None
    ]
    if waiting:
        lines.append("Waiting for child tasks: " + ", ".join(f"`{t}`" for t in waiting))
    pending = state.pending
    if state.status is TaskStatus.AWAITING_APPROVAL and pending is not None:
        if pending.tool is not None:
            args = json.dumps(pending.arguments, sort_keys=True)[:500]
            lines.append(f"Proposed: `{pending.tool}` with `{args}`")
            if pending.view is not None:
                lines.append("What the policy saw:\n" + "\n".join(render_call_view(pending.view)))
        if pending.draft is not None:
            whole = f"`taskcraft status {state.task_id}`"
            lines.append("Draft:\n\n" + clip(pending.draft, DRAFT_SHOWN_CHARS, whole))
        who = ", ".join(pending.allowed_approvers()) or "any operator"
        # Once escalated, the next timeout rejects: there is no second escalation.
        then = "reject, already escalated" if pending.escalated else pending.on_timeout.value
        lines += [
            f"Why: {pending.reason}",
            f"Who may decide: {who} · times out {pending.timeout_at.isoformat()} (then: {then})",
            f"Approve: `taskcraft approve {state.task_id} --gate {pending.gate_id} --as NAME`",
            f'Reject: `taskcraft reject {state.task_id} --gate {pending.gate_id} --reason "..."`',
            'Or send signal `decide` with `{"kind": "approve", "approver": "NAME", '
            f'"gate_id": "{pending.gate_id}"}}`',
        ]
    if state.status is TaskStatus.RECOVERING and state.recovery is not None:
        lines.append(
            f"All models failed: {state.recovery.cause}. Next try at "
            f"{state.recovery.next_try_at.isoformat()}; gives up at "
            f"{state.recovery.gives_up_at.isoformat()}. `taskcraft resume {state.task_id}` "
            "tries now."
        )
    if state.status is TaskStatus.PAUSED:
        lines.append(
            f"Resume: `taskcraft resume {state.task_id}` or send signal `resume` with `{{}}`"
        )
    if state.status.is_terminal:
        lines.append(_ending(state))
    elif state.error:
        lines.append(f"Error: {state.error}")
    return "\n\n".join(lines)


def _ending(state: TaskState) -> str:
    """How the task ended, so the page says so after the last step too."""
    steps = f"after {state.step} step{'s' if state.step != 1 else ''}"
    if state.status is TaskStatus.COMPLETED:
        whole = f"`taskcraft status {state.task_id}`"
        return f"Completed {steps}. Result:\n\n" + clip(
            state.result or "", RESULT_SHOWN_CHARS, whole
        )
    if state.status is TaskStatus.FAILED:
        return f"Failed {steps}: {state.error or 'no cause recorded'}"
    return f"Cancelled {steps} ({state.status_detail or 'by an operator'})."
