"""The task record: what a task is, what it has done, and what it is waiting for.

``TaskState`` is what the ``state`` query returns and what continue-as-new carries
forward. Every field added later must have a default, so histories written by older
code still decode.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from taskcraft.agent_calls import ParentLink
from taskcraft.agents import PinnedAgent
from taskcraft.approvals import ApprovalRequest, DecisionRecord
from taskcraft.budgets import BudgetUsage
from taskcraft.calls import StopReason
from taskcraft.messages import Message, Usage
from taskcraft.policy import Effect
from taskcraft.schedules import ScheduledRun
from taskcraft.status import TaskStatus

# Observations kept in the task record are previews; the model saw (up to its limit) more.
OBSERVATION_PREVIEW_CHARS = 2_000


class ToolOutcome(StrEnum):
    OK = "ok"
    ERROR = "error"  # the tool ran and failed
    INVALID = "invalid"  # unknown tool, broken JSON, arguments that fail validation
    DENIED = "denied"  # the policy or a budget refused it
    REJECTED = "rejected"  # a human rejected it at a gate
    CANCELLED = "cancelled"


class ToolCallRecord(BaseModel):
    call_id: str
    name: str
    arguments: str  # as the model wrote them (or as a human edited them)
    outcome: ToolOutcome | None = None  # None while the call is running or waiting
    observation: str = ""  # preview, at most OBSERVATION_PREVIEW_CHARS
    observation_chars: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    policy_rule: str | None = None
    edited_by: str | None = None
    # A ``call_agent_<name>`` call: the child task it started.
    child_task_id: str | None = None


class StepRecord(BaseModel):
    """One model turn and what came of it: thought, actions, observations."""

    step: int
    model: str  # the reference that answered this turn
    offline: bool = False
    text: str = ""
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    started_at: datetime
    model_finished_at: datetime | None = None
    finished_at: datetime | None = None
    failovers: list[str] = Field(default_factory=list)  # refs that failed before this answer
    # How the model's answer ended when it did not simply end: LENGTH (cut off at the
    # output limit, then continued ``continuations`` times) or CONTENT_FILTER (refused);
    # ``stop_detail`` is the provider's own words, e.g. 'finish_reason "length"'.
    stop_reason: StopReason = StopReason.END
    stop_detail: str = ""
    continuations: int = 0


class PolicyRecord(BaseModel):
    """One policy decision, enough to explain it later."""

    step: int
    call_id: str
    tool: str
    effect: Effect
    rule_id: str
    reason: str
    arguments: dict[str, Any]  # as evaluated, with secrets redacted
    policy_hash: str
    at: datetime


class HumanNote(BaseModel):
    author: str
    text: str
    at: datetime
    seen_at_step: int | None = None


class ControlRecord(BaseModel):
    """An operator's pause or resume: who, when, and what came of it."""

    action: str  # "pause" or "resume"
    by: str
    at: datetime
    step: int
    applied: bool = True
    detail: str = ""


class RecoveryInfo(BaseModel):
    since: datetime
    attempt: int
    cause: str
    next_try_at: datetime
    gives_up_at: datetime


class TaskState(BaseModel):
    task_id: str
    agent: str
    goal: str
    inputs: dict[str, str] = Field(default_factory=dict)
    status: TaskStatus = TaskStatus.PENDING
    status_detail: str = ""
    step: int = 0
    steps: list[StepRecord] = Field(default_factory=list)
    result: str | None = None
    error: str | None = None
    models_used: list[str] = Field(default_factory=list)
    offline_model: bool = False
    pending: ApprovalRequest | None = None
    decisions: list[DecisionRecord] = Field(default_factory=list)
    audit: list[PolicyRecord] = Field(default_factory=list)
    notes: list[HumanNote] = Field(default_factory=list)
    controls: list[ControlRecord] = Field(default_factory=list)
    usage: BudgetUsage = Field(default_factory=BudgetUsage)
    policy_name: str = ""
    policy_hash: str = ""
    recovery: RecoveryInfo | None = None
    # Model reference → until when it is tried last (it failed; see failover_cooldown_s).
    model_cooldowns: dict[str, datetime] = Field(default_factory=dict)
    paused_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # Earlier runs of this task (continue-as-new), oldest first.
    previous_run_ids: list[str] = Field(default_factory=list)
    # Gates asked so far; gate ids are g1, g2, … in order, across runs.
    gate_seq: int = 0
    # Workflow-specific details (the incident report's draft, for instance).
    extra: dict[str, Any] = Field(default_factory=dict)
    # A child task: the task whose agent called this one, and how deep the chain is.
    parent_task_id: str | None = None
    depth: int = 0
    # Child tasks started so far (their ids end in -<step>-<n>), across runs.
    child_seq: int = 0
    # A task a schedule started: the schedule's name and the time it fired for.
    schedule: str | None = None
    scheduled_at: datetime | None = None

    @property
    def decided_gate_ids(self) -> set[str]:
        return {record.gate_id for record in self.decisions if record.applied}


class TaskInput(BaseModel):
    """The single argument of every task workflow."""

    agent: str
    goal: str
    inputs: dict[str, str] = Field(default_factory=dict)
    # Swap the agent's model route for this task only (same execution logic).
    model_route: list[str] | None = None
    policy: str | None = None
    # Set only by continue-as-new.
    carried: CarriedTask | None = None
    # Set when another task's agent called this one (a child workflow).
    parent: ParentLink | None = None
    # Set when a schedule started the task: its inputs' placeholders are resolved.
    schedule: ScheduledRun | None = None


class CarriedTask(BaseModel):
    """What one run hands to the next when the task continues as new."""

    state: TaskState
    pinned: PinnedAgent
    conversation_ref: str | None
    pending_messages: list[Message] = Field(default_factory=list)
    tools_ref: str | None = None
    policy_ref: str = ""


class TaskResult(BaseModel):
    task_id: str
    status: TaskStatus
    result: str | None = None
    error: str | None = None
    steps: int = 0
    # A child task's totals, added to its parent's (None for tasks nobody called).
    usage: BudgetUsage | None = None


def preview(text: str, limit: int = OBSERVATION_PREVIEW_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"… [{len(text) - limit} more characters]"
