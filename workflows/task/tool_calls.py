"""One tool call, governed: parse, validate, budget, policy, gate, then (maybe) run.

Every refusal becomes an observation the model reads at its next turn, so a bad or
forbidden call never crashes the task, and a denied call never becomes an activity.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

from taskcraft.agents import ToolSpec
from taskcraft.approvals import DecisionKind, DecisionRecord, GateKind
from taskcraft.arguments import ArgumentError, parse_arguments, validate_arguments
from taskcraft.budgets import tool_budget_refusal
from taskcraft.calls import TOOL_ACTIVITY, ToolCallInput, ToolCallResult
from taskcraft.errors import ErrorType
from taskcraft.messages import Message, ToolCall
from taskcraft.policy import Effect, PolicyContext
from taskcraft.task import ToolCallRecord, ToolOutcome, preview
from taskcraft.tools import SideEffects

if TYPE_CHECKING:
    from workflows.task.run import TaskRun

# A tool whose whole timeout is this short needs no heartbeat timeout: a dead worker is
# noticed when the call times out anyway. Longer tools are noticed this soon by default.
QUICK_TOOL_S = 15.0
DEFAULT_TOOL_HEARTBEAT = timedelta(seconds=10)
# Failures that prove an at-most-once call had no effect (it never reached the tool's code,
# or the tool said so): anything else leaves its outcome unknown.
_NO_EFFECT = frozenset(
    {ErrorType.TOOL_NOT_DELIVERED, ErrorType.TOOL_POLICY_DENIED, ErrorType.TOOL_UNKNOWN}
)


@dataclass(frozen=True)
class ToolCallOutcome:
    """What came of one call: the observation the model reads, and the tool's own result.

    ``result`` is None when the call never ran (invalid, denied, rejected); its ``data``
    is the structured result a tool returned beside its text, for workflow code to read.
    """

    call: ToolCall
    record: ToolCallRecord
    message: Message
    result: ToolCallResult | None = None

    @property
    def ok(self) -> bool:
        return self.record.outcome is ToolOutcome.OK


def heartbeat_timeout(spec: ToolSpec) -> timedelta | None:
    if spec.heartbeat_timeout_s is not None:
        return timedelta(seconds=spec.heartbeat_timeout_s)
    return None if spec.timeout_s <= QUICK_TOOL_S else DEFAULT_TOOL_HEARTBEAT


def _at_most_once(spec: ToolSpec) -> bool:
    return spec.side_effects == SideEffects.AT_MOST_ONCE


def _backoff(spec: ToolSpec, attempts: int) -> timedelta:
    """The tool's own retry interval after ``attempts`` tries (the workflow retries these)."""
    retry = spec.retry
    delay = retry.initial_interval_s * retry.backoff_coefficient ** (attempts - 1)
    return timedelta(seconds=min(delay, retry.maximum_interval_s))


def _retry_policy(spec: ToolSpec) -> RetryPolicy:
    if _at_most_once(spec):
        # Attempted once per scheduling: the workflow decides what a failure means.
        return RetryPolicy(maximum_attempts=1)
    return RetryPolicy(
        initial_interval=timedelta(seconds=spec.retry.initial_interval_s),
        backoff_coefficient=spec.retry.backoff_coefficient,
        maximum_interval=timedelta(seconds=spec.retry.maximum_interval_s),
        maximum_attempts=spec.retry.maximum_attempts,
    )


def check_arguments(spec: ToolSpec | None, name: str, raw: str, known: list[str]) -> dict[str, Any]:
    """Parsed arguments, or an ``ArgumentError`` that explains the problem to the model."""
    if spec is None:
        raise ArgumentError(f"there is no tool named {name!r}; available: {', '.join(known)}")
    arguments = parse_arguments(raw)
    validate_arguments(spec.parameters, arguments)
    return arguments


def _finish(
    record: ToolCallRecord,
    call: ToolCall,
    outcome: ToolOutcome,
    text: str,
    result: ToolCallResult | None = None,
) -> ToolCallOutcome:
    record.outcome = outcome
    record.observation = preview(text)
    record.observation_chars = len(text)
    record.finished_at = workflow.now()
    message = Message.tool(call, text, is_error=outcome is not ToolOutcome.OK)
    return ToolCallOutcome(call=call, record=record, message=message, result=result)


def _stands_for(standing: DecisionRecord | None, approvers: list[str]) -> bool:
    """A decision made earlier approves this call only when the rule accepts its approver."""
    return standing is not None and (not approvers or standing.approver in approvers)


async def run_tool_call(
    task: TaskRun,
    call: ToolCall,
    record: ToolCallRecord,
    *,
    standing_approval: DecisionRecord | None = None,
    budget_refusal: str | None = None,
) -> ToolCallOutcome:
    """Govern and run ``call``; ``standing_approval`` answers a gate this call would ask.

    ``budget_refusal`` is a per-tool budget refusal decided for the whole turn at once
    (parallel calls); otherwise the budget is checked here.
    """
    pinned = task.pinned_agent
    record.started_at = workflow.now()
    spec = pinned.tool(call.name)
    try:
        arguments = check_arguments(spec, call.name, call.arguments, [t.name for t in pinned.tools])
    except ArgumentError as error:
        return _finish(record, call, ToolOutcome.INVALID, f"Invalid tool call: {error}")
    assert spec is not None  # check_arguments refuses unknown tools
    refusal = budget_refusal or tool_budget_refusal(
        pinned.spec.budgets, task.state.usage, call.name
    )
    if refusal is None and spec.calls_agent is not None:  # depth, fan-out, the agent's inputs
        refusal = task.children.refusal(spec, arguments)
    if refusal is not None:
        return _finish(record, call, ToolOutcome.DENIED, f"Refused: {refusal}")
    context = task.policy_context(spec)
    decision = task.policy_decision(spec, call.name, arguments)
    record.policy_rule = decision.rule_id
    task.record_policy_decision(call, arguments, decision)
    if decision.effect is Effect.DENY:
        text = f"Denied by policy rule {decision.rule_id}: {decision.reason or 'not allowed'}"
        return _finish(record, call, ToolOutcome.DENIED, text)
    approved_by = None
    if decision.effect is Effect.REQUIRE_APPROVAL or spec.requires_approval:
        if _stands_for(standing_approval, decision.approvers):
            assert standing_approval is not None
            verdict = standing_approval
        else:
            why = decision.reason if decision.effect is Effect.REQUIRE_APPROVAL else ""
            verdict = await task.gates.ask(
                kind=GateKind.TOOL_CALL,
                title=f"run {call.name}",
                reason=why or f"tool {call.name} requires approval",
                approvers=decision.approvers or None,
                tool=call.name,
                call_id=call.id,
                arguments=arguments,
                view=decision.view,
            )
        if verdict.kind is not DecisionKind.APPROVE and verdict.kind is not DecisionKind.EDIT:
            because = verdict.reason or "no reason given"
            text = f"Rejected by {verdict.approver}: {because}"
            return _finish(record, call, ToolOutcome.REJECTED, text)
        approved_by = verdict.approver
        if verdict.kind is DecisionKind.EDIT and verdict.arguments is not None:
            arguments = verdict.arguments
            record.arguments = json.dumps(arguments, sort_keys=True)
            record.edited_by = verdict.approver
    return await _execute(task, call, record, spec, arguments, approved_by, context)


async def _execute(
    task: TaskRun,
    call: ToolCall,
    record: ToolCallRecord,
    spec: ToolSpec,
    arguments: dict[str, Any],
    approved_by: str | None,
    context: PolicyContext,
) -> ToolCallOutcome:
    task.count_tool_call(call.name)
    if spec.calls_agent is not None:  # runs as a child task, not an activity
        answer = await task.children.call(call, record, spec, arguments)
        return _finish(
            record, call, ToolOutcome.OK if answer.ok else ToolOutcome.ERROR, answer.content, answer
        )
    attempts = 0
    while True:
        attempts += 1
        try:
            result = await _activity(task, call, spec, arguments, approved_by, context)
        except ActivityError as error:
            if is_cancelled_exception(error):
                # The task is being cancelled: the tool was stopped, nothing to tell the model.
                record.outcome = ToolOutcome.CANCELLED
                record.finished_at = workflow.now()
                raise asyncio.CancelledError() from error
            cause = error.cause
            detail = cause.message if isinstance(cause, ApplicationError) else str(cause or error)
            if not _at_most_once(spec):
                return _finish(record, call, ToolOutcome.ERROR, f"Tool failed: {detail}")
            kind = cause.type if isinstance(cause, ApplicationError) else None
            if kind == ErrorType.TOOL_NOT_DELIVERED and attempts < spec.retry.maximum_attempts:
                await workflow.sleep(_backoff(spec, attempts), summary=f"{call.name}: not sent")
                continue
            if kind in _NO_EFFECT:
                return _finish(record, call, ToolOutcome.ERROR, f"Tool failed: {detail}")
            verdict = await _ask_delivery(task, call, arguments, detail)
            if verdict.kind is DecisionKind.APPROVE:
                continue  # the operator saw nothing arrive: send again
            text = f"Delivery unconfirmed ({detail}); {verdict.approver} marked it as sent" + (
                f": {verdict.reason}" if verdict.reason else ""
            )
            return _finish(record, call, ToolOutcome.OK, text)
        outcome = ToolOutcome.OK if result.ok else ToolOutcome.ERROR
        return _finish(record, call, outcome, result.content, result)


async def _activity(
    task: TaskRun,
    call: ToolCall,
    spec: ToolSpec,
    arguments: dict[str, Any],
    approved_by: str | None,
    context: PolicyContext,
) -> ToolCallResult:
    state = task.state
    result: ToolCallResult = await workflow.execute_activity(
        TOOL_ACTIVITY,
        ToolCallInput(
            task_id=state.task_id,
            step=state.step,
            call_id=call.id,
            tool=call.name,
            arguments=arguments,
            policy_ref=task.policy_ref,
            idempotency_key=f"{state.task_id}/{state.step}/{call.id}",
            approved_by=approved_by,
            policy_context=context,
            policy_cap_refs=task.policy_cap_refs,
        ),
        result_type=ToolCallResult,
        task_queue=spec.task_queue,
        start_to_close_timeout=timedelta(seconds=spec.timeout_s),
        heartbeat_timeout=heartbeat_timeout(spec),
        retry_policy=_retry_policy(spec),
        summary=f"tool {call.name} · step {state.step}",
    )
    return result


async def _ask_delivery(
    task: TaskRun, call: ToolCall, arguments: dict[str, Any], detail: str
) -> DecisionRecord:
    """An at-most-once call whose outcome is unknown: a person checks, then decides."""
    return await task.gates.ask(
        kind=GateKind.DELIVERY,
        title=f"delivery unknown: {call.name}",
        reason=(
            f"the call may or may not have taken effect ({detail}). Check the "
            "destination: approve to send again, reject to mark it as sent"
        ),
        tool=call.name,
        call_id=call.id,
        arguments=arguments,
    )
