"""Inputs and results of every activity: the only things that cross the workflow boundary.

Kept small on purpose, because history stores every one of them: the conversation
travels as a content-addressed reference plus the messages added since, never whole.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from taskcraft.agents import PinnedAgent
from taskcraft.messages import Message, Usage
from taskcraft.model_ref import ModelRef
from taskcraft.policy import PolicyContext

# Activity names are part of every task's history: never rename one without
# ``workflow.patched``. They live here so workflow code never imports activity modules.
PIN_ACTIVITY = "taskcraft.agent.pin"
MODEL_ACTIVITY = "taskcraft.model.complete"
TOOL_ACTIVITY = "taskcraft.tool.run"
NOTIFY_ACTIVITY = "taskcraft.notify.gate"


class ModelCallInput(BaseModel):
    task_id: str
    step: int
    model: ModelRef
    agent: str
    # The pinned tool specs live in the store, addressed by hash: read, never re-sent.
    tools_ref: str | None
    conversation_ref: str | None  # None on the first turn
    new_messages: list[Message]


class StopReason(StrEnum):
    """How a model's answer ended, whatever the provider called it."""

    END = "end"  # finished: a final answer or complete tool calls
    # Cut off at the output limit (OpenAI ``finish_reason: "length"``, Anthropic
    # ``stop_reason: "max_tokens"``): the text is partial, tool calls may be broken.
    LENGTH = "length"
    # Stopped by the provider's filter (``finish_reason: "content_filter"``, Anthropic
    # ``stop_reason: "refusal"``): not an answer.
    CONTENT_FILTER = "content_filter"


class ModelCallResult(BaseModel):
    message: Message
    usage: Usage = Field(default_factory=Usage)
    model: str  # the reference that answered
    offline: bool = False
    conversation_ref: str  # the conversation including ``message``
    # Answers recorded before stop reasons were reported decode as a normal end.
    stop_reason: StopReason = StopReason.END
    # The provider's own words for a stop that was not a normal end, for people reading
    # the failure: 'finish_reason "content_filter"', 'stop_reason "max_tokens"'.
    stop_detail: str = ""


class ModelFailureDetails(BaseModel):
    """The details of a model failure only an operator can fix (``ApplicationError.details``).

    Auth failures, unknown models and providers not configured carry one, so the task's
    status line says what answered and what to change on the workers.
    """

    answer: str  # what happened: "answered 401 Unauthorized", "is not configured"
    fix: str = ""  # what to change: "fix OPENAI_API_KEY on the workers"


class ToolCallInput(BaseModel):
    task_id: str
    step: int
    call_id: str
    tool: str
    arguments: dict[str, Any]
    # The activity re-checks the call against this exact policy (defence in depth).
    policy_ref: str
    idempotency_key: str
    # Who approved the call at a gate, when the tool or the policy required approval.
    approved_by: str | None = None
    # What the workflow's policy check knew about the call (workspace root, argument
    # kinds), so the activity's re-check judges it the same way.
    policy_context: PolicyContext | None = None
    # A child task's ancestors' policies, re-checked too (the strictest effect wins).
    policy_cap_refs: list[str] = Field(default_factory=list)


class ToolCallResult(BaseModel):
    ok: bool
    content: str  # what the model sees (already cut to the tool's limit)
    full_chars: int  # length before cutting
    error_type: str | None = None
    # Structured data the tool returned beside its text, for workflow code (small).
    data: dict[str, Any] | None = None


class ResolveAgentInput(BaseModel):
    agent: str
    model_route: list[str] | None = None
    policy: str | None = None
    # The task's inputs, checked again against the agent's schema by the worker.
    inputs: dict[str, str] = Field(default_factory=dict)
    # A child task's ancestors' policy references: pinned as caps on its own policy.
    policy_caps: list[str] = Field(default_factory=list)


class PinAgentResult(BaseModel):
    pinned: PinnedAgent
    tools_ref: str | None  # the tool specs, stored for the model activity
    policy_ref: str  # the policy, stored for the tool activity's re-check
    # The inputs as checked and normalised (defaults filled); None from older workers.
    inputs: dict[str, str] | None = None


class NotifyInput(BaseModel):
    task_id: str
    agent: str
    gate_id: str
    title: str
    summary: str
    approvers: list[str] = Field(default_factory=list)
    escalation: bool = False
    # When the gate times out: signed approval links expire then.
    timeout_at: datetime | None = None
