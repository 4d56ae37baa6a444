"""``TaskRun``: one running task, the single owner of its record.

A task workflow is thin: it asks its ``TaskRun`` to initialise (pin the agent), to begin
steps, to hold at gates, and to finish. The parts live beside it in this package
(``steps``, ``tool_calls``, ``model_route``, ``gates``, ``controls``, ``children``,
``origin``), and nothing outside the package writes the task's state: workflow code reads
``task.state`` and changes it only through the methods here.

Lifecycle: PENDING → INITIALIZING (``initialize``: the agent definition, tools and policy
are pinned) → RUNNING, with AWAITING_APPROVAL at gates, PAUSED between steps and
RECOVERING while every model is down → COMPLETED, FAILED or CANCELLED (``guard``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, NoReturn

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from taskcraft.agent_calls import cap_exhausted, governed_decision
from taskcraft.agents import PinnedAgent, ToolSpec
from taskcraft.approvals import DecisionKind, GateKind
from taskcraft.budgets import OnExhausted, exhausted_budget, tool_budget_refusal
from taskcraft.calls import PIN_ACTIVITY, ModelCallResult, PinAgentResult, ResolveAgentInput
from taskcraft.details import render_details
from taskcraft.errors import TaskFailedError
from taskcraft.messages import Message, ToolCall
from taskcraft.model_ref import ModelRef
from taskcraft.policy import PolicyContext, PolicyDecision
from taskcraft.redact import redact
from taskcraft.status import TaskStatus
from taskcraft.task import (
    CarriedTask,
    PolicyRecord,
    RecoveryInfo,
    StepRecord,
    TaskInput,
    TaskResult,
    TaskState,
    ToolOutcome,
)
from workflows.search_attributes import STATUS
from workflows.task.children import Children
from workflows.task.controls import Controls
from workflows.task.gates import Gates
from workflows.task.origin import record_origin
from workflows.task.steps import PLANNED, Step

PIN_TIMEOUT = timedelta(seconds=30)


class TaskRun:
    """The running task: its record (``state``), pinned agent, conversation, gates, controls."""

    def __init__(self, inp: TaskInput) -> None:
        carried = inp.carried
        self.input = inp
        if carried is not None:
            self.state = carried.state
            self.pinned: PinnedAgent | None = carried.pinned
            self.conversation_ref: str | None = carried.conversation_ref
            self._said: list[Message] = list(carried.pending_messages)
            self.tools_ref: str | None = carried.tools_ref
            self.policy_ref: str = carried.policy_ref
        else:
            self.state = TaskState(
                task_id=workflow.info().workflow_id,
                agent=inp.agent,
                goal=inp.goal,
                inputs=inp.inputs,
                created_at=workflow.now(),
                updated_at=workflow.now(),
            )
            record_origin(self.state, inp)
            self.pinned = None
            self.conversation_ref = None
            self._said = []
            self.tools_ref = None
            self.policy_ref = ""
        self.steps_this_run = 0
        self.gates = Gates(self)
        self.controls = Controls(self)
        self.children = Children(self)

    @property
    def pinned_agent(self) -> PinnedAgent:
        if self.pinned is None:
            raise RuntimeError("the agent is pinned by initialize() before any step")
        return self.pinned

    @property
    def inputs(self) -> Mapping[str, str]:
        """The task's inputs (a scheduled task's with its placeholders resolved)."""
        return self.state.inputs

    @property
    def policy_cap_refs(self) -> list[str]:
        """A child task's ancestors' policies (nearest first); empty for other tasks."""
        return list(self.input.parent.policy_refs) if self.input.parent else []

    # ----- status -------------------------------------------------------------------

    def set_status(self, status: TaskStatus, detail: str = "") -> None:
        changed = status is not self.state.status
        self.state.status = status
        self.state.status_detail = detail
        self.state.updated_at = workflow.now()
        if changed:
            workflow.upsert_search_attributes([STATUS.value_set(status.value)])
        self.refresh_details()

    def refresh_details(self) -> None:
        workflow.set_current_details(render_details(self.state))

    # ----- lifecycle ----------------------------------------------------------------

    async def guard(self, body: Callable[[], Awaitable[TaskResult]]) -> TaskResult:
        """Run the workflow's ``body``; ``TaskFailedError`` ends it FAILED, a cancel CANCELLED."""
        try:
            return await body()
        except TaskFailedError as failure:
            self.fail(str(failure))
        except asyncio.CancelledError:
            # Only an operator's cancel ends the task; the SDK also cancels a workflow's
            # coroutines when it evicts it from the worker's cache, which is no ending.
            if workflow.cancellation_reason() is not None:
                self._mark_cancelled()
            raise

    async def initialize(self) -> PinnedAgent:
        """INITIALIZING: pin the agent definition, tools and policy (once per task).

        The conversation starts with the agent's instructions (and the task's inputs) as
        the system message and the goal as the first user message.
        """
        if self.pinned is not None:  # carried over from an earlier run
            return self.pinned
        inp = self.input
        self.set_status(TaskStatus.INITIALIZING, "pinning the agent definition and policy")
        try:
            pinned = await workflow.execute_activity(
                PIN_ACTIVITY,
                ResolveAgentInput(
                    agent=inp.agent,
                    model_route=inp.model_route,
                    policy=inp.policy,
                    inputs=self.state.inputs,
                    policy_caps=self.policy_cap_refs,
                ),
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
        if pinned.inputs is not None:
            self.state.inputs = pinned.inputs
        spec = pinned.pinned.spec
        context = "".join(f"\n- {key}: {value}" for key, value in sorted(self.inputs.items()))
        system = spec.instructions + (f"\n\nTask inputs:{context}" if context else "")
        self._said = [Message.system(system), Message.user(inp.goal)]
        return self.pinned

    def running(self, detail: str = "") -> None:
        self.set_status(TaskStatus.RUNNING, detail)

    def complete(self, answer: str) -> TaskResult:
        self.state.result = answer
        self.set_status(TaskStatus.COMPLETED)
        return TaskResult(
            task_id=self.state.task_id,
            status=TaskStatus.COMPLETED,
            result=answer,
            steps=self.state.step,
            # A child's spending is added to its parent's totals.
            usage=self.state.usage if self.input.parent is not None else None,
        )

    def fail(self, error: str) -> NoReturn:
        self.state.error = error
        self.set_status(TaskStatus.FAILED)
        # A failed child still tells its parent what it spent.
        spent = [self.state.usage.model_dump(mode="json")] if self.input.parent else []
        raise ApplicationError(error, *spent, type="TaskFailed", non_retryable=True)

    def _mark_cancelled(self) -> None:
        for step in self.state.steps:
            for call in step.tool_calls:
                if call.outcome is None:
                    call.outcome = ToolOutcome.CANCELLED
        self.state.pending = None
        self.set_status(TaskStatus.CANCELLED, "cancelled by an operator")

    # ----- the conversation ---------------------------------------------------------

    def say(self, *messages: Message) -> None:
        """Add messages the model reads at its next turn."""
        self._said.extend(messages)

    def start_conversation(self, *messages: Message) -> None:
        """Replace what the next turn sends: for workflows that write their own prompt."""
        self._said = list(messages)

    def take_said(self) -> list[Message]:
        said, self._said = self._said, []
        return said

    def answered(self, reply: ModelCallResult) -> None:
        """Record a model's answer: the conversation, the models used, tokens and cost."""
        self.conversation_ref = reply.conversation_ref
        if reply.model not in self.state.models_used:
            self.state.models_used.append(reply.model)
        tally = self.state.usage
        tally.tokens = tally.tokens + reply.usage
        price = self.pinned_agent.prices.get(reply.model)
        if price is not None:
            tally.cost_usd += price.cost(reply.usage)

    def _take_notes(self) -> None:
        for note in self.state.notes:
            if note.seen_at_step is None:
                note.seen_at_step = self.state.step
                self.say(Message.user(f"[Note from {note.author}] {note.text}"))

    # ----- steps --------------------------------------------------------------------

    async def honour_pause(self) -> None:
        """A pause requested by an operator takes effect here (call it between steps)."""
        await self.controls.honour_pause()

    async def next_turn(self, *, may_continue_as_new: bool = False) -> Step:
        """The next model turn's step: pause, budgets and (maybe) continue-as-new first.

        Operators' notes are added to the conversation here, so the model reads them.
        """
        await self.honour_pause()
        await self.check_budgets()
        if may_continue_as_new and self._continue_as_new_due():
            self._continue_as_new()
        step = self._new_step(model="")
        self._take_notes()
        return step

    def begin_step(self, *, planned: str) -> Step:
        """A step whose calls the workflow plans itself (``planned`` says what it does)."""
        return self._new_step(model=PLANNED, text=planned)

    def _new_step(self, *, model: str, text: str = "") -> Step:
        self.state.step += 1
        self.steps_this_run += 1
        self.state.usage.steps += 1
        record = StepRecord(step=self.state.step, model=model, text=text, started_at=workflow.now())
        self.state.steps.append(record)
        self.refresh_details()
        return Step(self, record)

    # ----- governance ---------------------------------------------------------------

    async def check_budgets(self) -> None:
        """Before a model turn: a used-up budget fails the task or asks to continue."""
        spec = self.pinned_agent.spec
        created = self.state.created_at or workflow.now()
        parent = self.input.parent
        if parent is not None:  # a child never spends more than its parent had left
            over = cap_exhausted(parent.budget, self.state.usage, workflow.now())
            if over is not None:
                raise TaskFailedError(over)
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
        verdict = await self.gates.ask(
            kind=GateKind.BUDGET, title="continue past the budget", reason=exhausted
        )
        if verdict.kind is not DecisionKind.APPROVE:
            raise TaskFailedError(f"{exhausted}; continuing was not approved")
        self.state.usage.extensions += 1

    def record_policy_decision(
        self, call: ToolCall, arguments: dict[str, Any], decision: PolicyDecision
    ) -> None:
        pinned = self.pinned_agent
        self.state.audit.append(
            PolicyRecord(
                step=self.state.step,
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

    def policy_decision(
        self, spec: ToolSpec, tool: str, arguments: Mapping[str, Any]
    ) -> PolicyDecision:
        """The pinned policy's decision on a call; a child's ancestors' policies cap it."""
        return governed_decision(self.pinned_agent, tool, arguments, self.policy_context(spec))

    def policy_context(self, spec: ToolSpec) -> PolicyContext:
        """What the policy knows about a call of this tool in this task."""
        return PolicyContext(
            workspace_root=self.pinned_agent.workspace_root,
            arg_kinds=spec.arg_kinds,
            writes=spec.writes,
        )

    def over_tool_budget(self, calls: Sequence[ToolCall]) -> dict[str, str]:
        """Calls of one turn that a per-tool budget refuses, counting the turn's calls in order.

        Calls run at once cannot each check the budget alone: they would all see the
        same count. Unknown tools are left to the call's own checks.
        """
        budgets = self.pinned_agent.spec.budgets
        usage = self.state.usage.model_copy(deep=True)
        refused: dict[str, str] = {}
        for call in calls:
            refusal = tool_budget_refusal(budgets, usage, call.name)
            if refusal is not None:
                refused[call.id] = refusal
                continue
            usage.tool_calls_by_tool[call.name] = usage.tool_calls_by_tool.get(call.name, 0) + 1
        return refused

    def count_tool_call(self, tool: str) -> None:
        usage = self.state.usage
        usage.tool_calls += 1
        usage.tool_calls_by_tool[tool] = usage.tool_calls_by_tool.get(tool, 0) + 1

    # ----- models: failover and recovery --------------------------------------------

    def cool_down(self, ref: ModelRef, seconds: float) -> None:
        """``ref`` failed: try it last until it has rested ``seconds``."""
        self.state.model_cooldowns[ref.ref] = workflow.now() + timedelta(seconds=seconds)

    def rested(self, ref: ModelRef) -> None:
        self.state.model_cooldowns.pop(ref.ref, None)

    def recovering(self, recovery: RecoveryInfo, detail: str) -> None:
        self.state.recovery = recovery
        self.set_status(TaskStatus.RECOVERING, detail)

    def end_recovery(self, *, running: bool = True) -> None:
        self.state.recovery = None
        if running:
            self.set_status(TaskStatus.RUNNING)

    # ----- continue-as-new ----------------------------------------------------------

    def _continue_as_new_due(self) -> bool:
        """Only between steps, with no gate open and no handler running.

        A pause asked for while a budget gate held the task is not yet in the record
        (``paused_by`` is set when the pause takes effect), so the run keeps going until
        the pause is honoured rather than dropping it with the old run.
        """
        if self.state.pending is not None or not workflow.all_handlers_finished():
            return False
        if self.controls.pause_requested:
            return False
        return (
            workflow.info().is_continue_as_new_suggested()
            or self.steps_this_run >= self.pinned_agent.spec.continue_as_new_after_steps
        )

    def _continue_as_new(self) -> NoReturn:
        self.state.previous_run_ids.append(workflow.info().run_id)
        carried_state = self.state.model_copy(update={"steps": [], "audit": []})
        workflow.continue_as_new(
            self.input.model_copy(
                update={
                    "carried": CarriedTask(
                        state=carried_state,
                        pinned=self.pinned_agent,
                        conversation_ref=self.conversation_ref,
                        pending_messages=self._said,
                        tools_ref=self.tools_ref,
                        policy_ref=self.policy_ref,
                    )
                }
            )
        )
