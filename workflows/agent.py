"""AgentWorkflow: plan → act → observe, one durable step at a time.

Each model turn and each tool call is an activity; the conversation lives in the blob
store and travels as a reference, so history grows by what each step adds and nothing
more. The task continues as new when Temporal suggests it (or every
``AgentSpec.continue_as_new_after_steps`` steps, pinned at start), carrying its record
forward. Handlers: see ``TaskWorkflowBase``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import NoReturn

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from taskcraft.agents import PinnedAgent
from taskcraft.approvals import ApprovalRequest, Decision, DecisionKind, GateKind
from taskcraft.arguments import ArgumentError, validate_arguments
from taskcraft.budgets import OnExhausted, exhausted_budget
from taskcraft.calls import PIN_ACTIVITY, ModelCallInput, PinAgentResult, ResolveAgentInput
from taskcraft.messages import Message, Usage
from taskcraft.policy import Effect, evaluate_tool_call
from taskcraft.status import TaskStatus
from taskcraft.task import (
    CarriedTask,
    StepRecord,
    TaskInput,
    TaskResult,
    ToolCallRecord,
    ToolOutcome,
)
from workflows.model_route import call_model
from workflows.task_base import TaskFailedError, TaskWorkflowBase
from workflows.tool_calls import ToolCallRunner

PIN_TIMEOUT = timedelta(seconds=30)


@workflow.defn(name="AgentWorkflow")
class AgentWorkflow(TaskWorkflowBase):
    @workflow.init
    def __init__(self, inp: TaskInput) -> None:
        super().__init__(inp)
        carried = inp.carried
        self.conversation_ref: str | None = carried.conversation_ref if carried else None
        self.pending_messages: list[Message] = list(carried.pending_messages) if carried else []
        self.tools_ref: str | None = carried.tools_ref if carried else None
        self.policy_ref: str = carried.policy_ref if carried else ""
        self.steps_this_run = 0

    @property
    def pinned_agent(self) -> PinnedAgent:
        assert self.pinned is not None, "the agent is pinned before the first step"
        return self.pinned

    @workflow.run
    async def run(self, inp: TaskInput) -> TaskResult:
        try:
            if self.pinned is None:
                await self._initialize(inp)
            self.set_status(TaskStatus.RUNNING)
            return await self._loop(inp)
        except TaskFailedError as failure:
            self._fail(str(failure))
        except asyncio.CancelledError:
            self._mark_cancelled()
            raise

    async def _initialize(self, inp: TaskInput) -> None:
        self.set_status(TaskStatus.INITIALIZING, "pinning the agent definition and policy")
        try:
            pinned = await workflow.execute_activity(
                PIN_ACTIVITY,
                ResolveAgentInput(agent=inp.agent, model_route=inp.model_route, policy=inp.policy),
                result_type=PinAgentResult,
                start_to_close_timeout=PIN_TIMEOUT,
                retry_policy=RetryPolicy(maximum_attempts=5),
                summary=f"pin agent {inp.agent}",
            )
        except ActivityError as error:
            cause = error.cause
            raise TaskFailedError(
                cause.message if isinstance(cause, ApplicationError) else str(error)
            ) from error
        self.pinned = pinned.pinned
        self.tools_ref = pinned.tools_ref
        self.policy_ref = pinned.policy_ref
        self.state.policy_name = pinned.pinned.policy.name
        self.state.policy_hash = pinned.pinned.policy_hash
        self.state.offline_model = all(ref.is_offline for ref in pinned.pinned.spec.model_route)
        spec = pinned.pinned.spec
        context = "".join(f"\n- {key}: {value}" for key, value in sorted(inp.inputs.items()))
        system = spec.instructions + (f"\n\nTask inputs:{context}" if context else "")
        self.pending_messages = [Message.system(system), Message.user(inp.goal)]

    async def _loop(self, inp: TaskInput) -> TaskResult:
        while True:
            await self.honour_pause()
            await self._check_budgets()
            if self._should_continue_as_new():
                self._continue_as_new(inp)
            self.state.step += 1
            self.steps_this_run += 1
            self.state.usage.steps += 1
            self._take_notes()
            record = StepRecord(step=self.state.step, model="", started_at=workflow.now())
            self.state.steps.append(record)
            self.refresh_details()
            message = await self._model_turn(record, self.tools_ref)
            calls = message.tool_calls
            if not calls:
                answer = await self._final_answer(message.content)
                record.finished_at = workflow.now()
                if answer is not None:
                    return self._complete(answer)
                continue
            runner = ToolCallRunner(self)
            for call in calls:
                call_record = ToolCallRecord(
                    call_id=call.id, name=call.name, arguments=call.arguments
                )
                record.tool_calls.append(call_record)
                self.refresh_details()
                self.pending_messages.append(await runner.run(call, call_record))
            record.finished_at = workflow.now()

    async def _model_turn(self, record: StepRecord, tools_ref: str | None) -> Message:
        """One model call on the task's conversation, with what it sent and cost recorded.

        The pending messages go out as the delta; the reply's conversation reference
        replaces ours, so the next turn sends only what was added since.
        """
        spec = self.pinned_agent.spec
        reply, failures = await call_model(
            self,
            spec.route_for_step(self.state.step),
            ModelCallInput(
                task_id=self.state.task_id,
                step=self.state.step,
                model=spec.model_route[0],
                agent=spec.name,
                tools_ref=tools_ref,
                conversation_ref=self.conversation_ref,
                new_messages=self.pending_messages,
            ),
            spec.recovery,
        )
        self.conversation_ref = reply.conversation_ref
        self.pending_messages = []
        record.text = reply.message.content
        record.model = reply.model
        record.offline = reply.offline
        record.failovers = failures
        record.model_finished_at = workflow.now()
        record.usage = reply.usage
        if reply.model not in self.state.models_used:
            self.state.models_used.append(reply.model)
        self._account(reply.model, reply.usage)
        return reply.message

    def _account(self, model: str, usage: Usage) -> None:
        tally = self.state.usage
        tally.tokens = tally.tokens + usage
        price = self.pinned_agent.prices.get(model)
        if price is not None:
            tally.cost_usd += price.cost(usage)

    def _take_notes(self) -> None:
        for note in self.state.notes:
            if note.seen_at_step is None:
                note.seen_at_step = self.state.step
                self.pending_messages.append(Message.user(f"[Note from {note.author}] {note.text}"))

    async def _check_budgets(self) -> None:
        spec = self.pinned_agent.spec
        created = self.state.created_at or workflow.now()
        exhausted = exhausted_budget(
            spec.budgets,
            self.state.usage,
            max_steps=spec.max_steps,
            elapsed_s=(workflow.now() - created).total_seconds(),
        )
        if exhausted is None:
            return
        if spec.budgets.on_exhausted is OnExhausted.FAIL:
            raise TaskFailedError(exhausted)
        verdict = await self.ask_approval(
            kind=GateKind.BUDGET,
            title="continue past the budget",
            reason=exhausted,
            settings=spec.approval,
        )
        if verdict.kind is not DecisionKind.APPROVE:
            raise TaskFailedError(f"{exhausted}; continuing was not approved")
        self.state.usage.extensions += 1

    async def _final_answer(self, text: str) -> str | None:
        """The answer to complete with, or None when a human sent the draft back for revision."""
        spec = self.pinned_agent.spec
        if not spec.approve_final_answer:
            return text
        verdict = await self.ask_approval(
            kind=GateKind.CHECKPOINT,
            title="final answer",
            reason="this agent's final answer is held for approval",
            settings=spec.approval,
            draft=text,
        )
        if verdict.kind is DecisionKind.APPROVE:
            return text
        if verdict.kind is DecisionKind.EDIT and verdict.draft:
            return verdict.draft
        self.pending_messages.append(
            Message.user(
                f"Your answer was not approved ({verdict.approver}): "
                f"{verdict.reason or 'no reason given'}. Revise it."
            )
        )
        return None

    def edit_refusal(self, pending: ApprovalRequest, decision: Decision) -> str | None:
        if decision.kind is not DecisionKind.EDIT or pending.tool is None or self.pinned is None:
            return None
        spec = self.pinned.tool(pending.tool)
        if spec is None or decision.arguments is None:
            return "the edited call no longer names a known tool"
        try:
            validate_arguments(spec.parameters, decision.arguments)
        except ArgumentError as error:
            return f"edited arguments are invalid: {error}"
        verdict = evaluate_tool_call(self.pinned.policy, pending.tool, decision.arguments)
        if verdict.effect is Effect.DENY:
            return f"edited arguments are denied by policy rule {verdict.rule_id}: {verdict.reason}"
        return None

    # ----- endings ----------------------------------------------------------------------

    def _should_continue_as_new(self) -> bool:
        """Only between steps, with no gate open and no handler running.

        A pause asked for while a budget gate held the task is not yet in the record
        (``paused_by`` is set when the pause takes effect), so the run keeps going until
        the pause is honoured rather than dropping it with the old run.
        """
        if self.state.pending is not None or not workflow.all_handlers_finished():
            return False
        if self._pause_requested_by is not None:
            return False
        return (
            workflow.info().is_continue_as_new_suggested()
            or self.steps_this_run >= self.pinned_agent.spec.continue_as_new_after_steps
        )

    def _continue_as_new(self, inp: TaskInput) -> None:
        self.state.previous_run_ids.append(workflow.info().run_id)
        carried_state = self.state.model_copy(update={"steps": [], "audit": []})
        workflow.continue_as_new(
            inp.model_copy(
                update={
                    "carried": CarriedTask(
                        state=carried_state,
                        pinned=self.pinned_agent,
                        conversation_ref=self.conversation_ref,
                        pending_messages=self.pending_messages,
                        tools_ref=self.tools_ref,
                        policy_ref=self.policy_ref,
                    )
                }
            )
        )

    def _complete(self, answer: str) -> TaskResult:
        self.state.result = answer
        self.set_status(TaskStatus.COMPLETED)
        return TaskResult(
            task_id=self.state.task_id,
            status=TaskStatus.COMPLETED,
            result=answer,
            steps=self.state.step,
        )

    def _fail(self, error: str) -> NoReturn:
        self.state.error = error
        self.set_status(TaskStatus.FAILED)
        raise ApplicationError(error, type="TaskFailed", non_retryable=True)

    def _mark_cancelled(self) -> None:
        for step in self.state.steps:
            for call in step.tool_calls:
                if call.outcome is None:
                    call.outcome = ToolOutcome.CANCELLED
        self.state.pending = None
        self.set_status(TaskStatus.CANCELLED, "cancelled by an operator")
