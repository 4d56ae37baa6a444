"""Gates, pending approval requests and human decisions.

Both ways a decision reaches a task (a signal from the Temporal UI, an update from the
CLI or the inbox) go through ``refusal_reason`` and then the same apply step in the
workflow, so the two paths can never disagree about what is allowed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from taskcraft.durations import Seconds
from taskcraft.policy.view import CallView
from taskcraft.status import TaskStatus


class TimeoutOutcome(StrEnum):
    REJECT = "reject"  # the gate closes as rejected; the model hears why
    ESCALATE = "escalate"  # notify a second audience and wait again, then reject
    FAIL = "fail"  # the task ends FAILED


class ApprovalSettings(BaseModel):
    """Who may decide a gate and what happens when nobody does."""

    model_config = ConfigDict(extra="forbid")

    approvers: list[str] = Field(default_factory=list)  # empty: any operator
    # A worker environment variable holding a comma-separated list that, when set,
    # replaces ``approvers`` (resolved when a task is pinned, so it is in its history).
    approvers_env: str | None = None
    timeout_s: Seconds = Field(default=24 * 3600.0, gt=0)
    on_timeout: TimeoutOutcome = TimeoutOutcome.REJECT
    escalate_to: list[str] = Field(default_factory=list)
    escalation_timeout_s: Seconds = Field(default=24 * 3600.0, gt=0)

    @model_validator(mode="after")
    def _escalation_needs_an_audience(self) -> ApprovalSettings:
        if self.on_timeout is TimeoutOutcome.ESCALATE and not self.escalate_to:
            raise ValueError("on_timeout = escalate needs escalate_to: who is told next")
        return self


class GateKind(StrEnum):
    TOOL_CALL = "tool_call"  # a tool call the tool or the policy holds for approval
    CHECKPOINT = "checkpoint"  # an explicit gate the agent or workflow declares (a draft)
    BUDGET = "budget"  # a budget ran out and the agent is configured to ask
    # An at-most-once call's outcome is unknown: approve sends again, reject marks it sent.
    DELIVERY = "delivery"


class ApprovalRequest(BaseModel):
    gate_id: str
    kind: GateKind
    title: str
    reason: str
    step: int
    approvers: list[str] = Field(default_factory=list)
    asked_at: datetime
    timeout_at: datetime
    on_timeout: TimeoutOutcome = TimeoutOutcome.REJECT
    escalate_to: list[str] = Field(default_factory=list)
    escalated: bool = False
    # What is proposed: a tool call, or a draft (text) for a checkpoint.
    tool: str | None = None
    call_id: str | None = None
    arguments: dict[str, Any] | None = None
    draft: str | None = None
    # What the policy understood of a tool call: programs, paths, hosts, statements.
    view: CallView | None = None

    def allowed_approvers(self) -> list[str]:
        if not self.approvers:
            return []
        return [*self.approvers, *(self.escalate_to if self.escalated else [])]


class DecisionKind(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    EDIT = "edit"


class Decision(BaseModel):
    """A human's answer to a gate: the single argument of the ``decide`` signal and update.

    From the Temporal UI, send for example
    ``{"kind": "approve", "approver": "alice", "comment": "looks right"}``.
    """

    kind: DecisionKind
    approver: str = "operator"
    gate_id: str | None = None  # None: whichever gate is pending
    comment: str = ""
    reason: str = ""  # required to reject; the model sees it
    arguments: dict[str, Any] | None = None  # edit: replacement tool arguments
    draft: str | None = None  # edit of a checkpoint: the replacement draft


class DecisionRecord(BaseModel):
    gate_id: str
    kind: DecisionKind | None
    approver: str
    at: datetime
    via: str  # "update", "signal" or "timeout"
    applied: bool
    comment: str = ""
    reason: str = ""
    arguments: dict[str, Any] | None = None
    draft: str | None = None
    refusal: str | None = None


def refusal_reason(
    *,
    status: TaskStatus,
    pending: ApprovalRequest | None,
    decided_gate_ids: set[str],
    decision: Decision,
) -> str | None:
    """Why ``decision`` cannot be applied now, or None when it can."""
    if status.is_terminal:
        return f"task is already {status.value}; there is nothing to decide"
    # No gate named: the decision is for whichever gate is pending.
    target = decision.gate_id or (pending.gate_id if pending is not None else None)
    if target is not None and target in decided_gate_ids:
        # Also covers a second decision that arrives before the task has moved on from
        # the first (both in one workflow task): the gate is still pending, yet decided.
        return f"gate {target} was already decided"
    if pending is None:
        return "task is not waiting for a decision"
    if target != pending.gate_id:
        return f"gate {target} is not pending (the pending gate is {pending.gate_id})"
    allowed = pending.allowed_approvers()
    if allowed and decision.approver not in allowed:
        return (
            f"{decision.approver!r} may not decide gate {pending.gate_id} "
            f"(allowed: {', '.join(allowed)})"
        )
    if decision.kind is DecisionKind.REJECT and not decision.reason.strip():
        return "a rejection needs a reason (it is passed back to the agent)"
    if decision.kind is DecisionKind.EDIT:
        if pending.kind is GateKind.TOOL_CALL and decision.arguments is None:
            return "an edit of a tool call needs the replacement arguments"
        if pending.kind is GateKind.CHECKPOINT and not (decision.draft or "").strip():
            return "an edit of a draft needs the replacement draft"
        if pending.kind in (GateKind.BUDGET, GateKind.DELIVERY):
            return f"a {pending.kind.value} gate can only be approved or rejected"
    return None
