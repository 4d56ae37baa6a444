"""One tool call, governed: parse, validate, budget, policy, gate, then (maybe) run.

Every refusal becomes an observation the model reads at its next turn, so a bad or
forbidden call never crashes the task, and a denied call never becomes an activity.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

from taskcraft.agents import ToolSpec
from taskcraft.approvals import DecisionKind, GateKind
from taskcraft.arguments import ArgumentError, parse_arguments, validate_arguments
from taskcraft.budgets import tool_budget_refusal
from taskcraft.calls import TOOL_ACTIVITY, ToolCallInput, ToolCallResult
from taskcraft.messages import Message, ToolCall
from taskcraft.policy import Effect, evaluate_tool_call
from taskcraft.redact import redact
from taskcraft.task import PolicyRecord, ToolCallRecord, ToolOutcome, preview

if TYPE_CHECKING:
    from workflows.agent import AgentWorkflow

TOOL_HEARTBEAT_TIMEOUT = timedelta(seconds=20)


def _retry_policy(spec: ToolSpec) -> RetryPolicy:
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


class ToolCallRunner:
    def __init__(self, task: AgentWorkflow) -> None:
        self.task = task

    def _finish(
        self, record: ToolCallRecord, outcome: ToolOutcome, text: str, call: ToolCall
    ) -> Message:
        record.outcome = outcome
        record.observation = preview(text)
        record.observation_chars = len(text)
        record.finished_at = workflow.now()
        return Message.tool(call, text, is_error=outcome is not ToolOutcome.OK)

    async def run(self, call: ToolCall, record: ToolCallRecord) -> Message:
        task = self.task
        pinned = task.pinned_agent
        state = task.state
        record.started_at = workflow.now()
        spec = pinned.tool(call.name)
        try:
            arguments = check_arguments(
                spec, call.name, call.arguments, [t.name for t in pinned.tools]
            )
        except ArgumentError as error:
            return self._finish(record, ToolOutcome.INVALID, f"Invalid tool call: {error}", call)
        assert spec is not None  # check_arguments refuses unknown tools
        refusal = tool_budget_refusal(pinned.spec.budgets, state.usage, call.name)
        if refusal is not None:
            return self._finish(record, ToolOutcome.DENIED, f"Refused: {refusal}", call)
        decision = evaluate_tool_call(pinned.policy, call.name, arguments)
        record.policy_rule = decision.rule_id
        state.audit.append(
            PolicyRecord(
                step=state.step,
                call_id=call.id,
                tool=call.name,
                effect=decision.effect,
                rule_id=decision.rule_id,
                reason=decision.reason,
                arguments=redact(arguments),
                policy_hash=pinned.policy_hash,
                at=workflow.now(),
            )
        )
        workflow.metric_meter().create_counter(
            "taskcraft_policy_decisions", "Policy decisions by effect and rule"
        ).add(1, {"effect": decision.effect.value, "rule": decision.rule_id})
        if decision.effect is Effect.DENY:
            text = f"Denied by policy rule {decision.rule_id}: {decision.reason or 'not allowed'}"
            return self._finish(record, ToolOutcome.DENIED, text, call)
        approved_by = None
        if decision.effect is Effect.REQUIRE_APPROVAL or spec.requires_approval:
            why = decision.reason if decision.effect is Effect.REQUIRE_APPROVAL else ""
            verdict = await task.ask_approval(
                kind=GateKind.TOOL_CALL,
                title=f"run {call.name}",
                reason=why or f"tool {call.name} requires approval",
                settings=pinned.spec.approval,
                approvers=decision.approvers or None,
                tool=call.name,
                call_id=call.id,
                arguments=arguments,
            )
            if verdict.kind is not DecisionKind.APPROVE and verdict.kind is not DecisionKind.EDIT:
                because = verdict.reason or "no reason given"
                text = f"Rejected by {verdict.approver}: {because}"
                return self._finish(record, ToolOutcome.REJECTED, text, call)
            approved_by = verdict.approver
            if verdict.kind is DecisionKind.EDIT and verdict.arguments is not None:
                arguments = verdict.arguments
                record.arguments = json.dumps(arguments, sort_keys=True)
                record.edited_by = verdict.approver
        return await self._execute(call, record, spec, arguments, approved_by)

    async def _execute(
        self,
        call: ToolCall,
        record: ToolCallRecord,
        spec: ToolSpec,
        arguments: dict[str, Any],
        approved_by: str | None,
    ) -> Message:
        task = self.task
        state = task.state
        state.usage.tool_calls += 1
        state.usage.tool_calls_by_tool[call.name] = (
            state.usage.tool_calls_by_tool.get(call.name, 0) + 1
        )
        try:
            result = await workflow.execute_activity(
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
                ),
                result_type=ToolCallResult,
                task_queue=spec.task_queue,
                start_to_close_timeout=timedelta(seconds=spec.timeout_s),
                heartbeat_timeout=TOOL_HEARTBEAT_TIMEOUT,
                retry_policy=_retry_policy(spec),
                summary=f"tool {call.name} · step {state.step}",
            )
        except ActivityError as error:
            if is_cancelled_exception(error):
                # The task is being cancelled: the tool was stopped, nothing to tell the model.
                record.outcome = ToolOutcome.CANCELLED
                record.finished_at = workflow.now()
                raise asyncio.CancelledError() from error
            cause = error.cause
            detail = cause.message if isinstance(cause, ApplicationError) else str(cause or error)
            return self._finish(record, ToolOutcome.ERROR, f"Tool failed: {detail}", call)
        outcome = ToolOutcome.OK if result.ok else ToolOutcome.ERROR
        return self._finish(record, outcome, result.content, call)
