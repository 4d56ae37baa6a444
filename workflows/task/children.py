"""Child tasks: a ``call_agent_<name>`` call runs that agent as a child workflow.

The call is governed like any tool call first (arguments, budgets, the policy, gates);
then, instead of an activity, the called agent's workflow runs as a child with its own
task id (``<parent>/<agent>-<step>-<n>``), its own history and record, visible in
``taskcraft list`` and the Temporal UI under its parent. What it inherits (the parent's
remaining budget as a cap, the parent's policies as caps on its own, the depth of the
chain) is in ``taskcraft.agent_calls``.

Its final answer is the observation the parent's model reads; a child that fails is an
observation too (``Agent ... failed: ...``), never a crash of the parent; either way its
tokens, cost and tool calls are added to the parent's totals. Cancelling the parent
cancels its children (they end CANCELLED); pausing or resuming the parent pauses or
resumes the children it is waiting for.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError, ChildWorkflowError, is_cancelled_exception
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

from taskcraft import handlers
from taskcraft.agent_calls import ParentLink, add_child_usage, child_request, remaining_budget
from taskcraft.agents import AgentTarget, ToolSpec
from taskcraft.budgets import BudgetUsage
from taskcraft.calls import ToolCallResult
from taskcraft.controls import ControlAction, OperatorRequest
from taskcraft.errors import InvalidInputError
from taskcraft.inputs import validate_inputs
from taskcraft.messages import ToolCall
from taskcraft.status import TaskStatus
from taskcraft.task import TaskInput, TaskResult, ToolCallRecord, preview
from workflows.search_attributes import AGENT, STATUS

if TYPE_CHECKING:
    from workflows.task.run import TaskRun

_FORWARDED = {ControlAction.PAUSE: handlers.PAUSE, ControlAction.RESUME: handlers.RESUME}


class Children:
    """The child tasks this task starts, and the ones it is waiting for right now."""

    def __init__(self, task: TaskRun) -> None:
        self._task = task
        self._running: dict[str, ChildWorkflowHandle[Any, TaskResult]] = {}
        self._sending: set[asyncio.Task[None]] = set()  # pauses and resumes on their way

    @property
    def max_depth(self) -> int:
        """How deep the chain of agent calls this task is in may go (every ancestor agrees)."""
        own = self._task.pinned_agent.spec.max_agent_depth
        parent = self._task.input.parent
        return own if parent is None else min(own, parent.max_depth)

    def refusal(self, spec: ToolSpec, arguments: dict[str, Any]) -> str | None:
        """Why this agent call cannot start a child (limits, inputs), or None."""
        target = spec.calls_agent
        assert target is not None
        state = self._task.state
        limits = self._task.pinned_agent.spec
        if state.depth + 1 > self.max_depth:
            return (
                f"calling agent {target.agent!r} would start a task {state.depth + 1} levels "
                f"below the first, and chains of agent calls may go only {self.max_depth} "
                "deep here (max_agent_depth): do this part yourself"
            )
        if state.child_seq >= limits.max_child_tasks:
            return (
                f"this task has started {state.child_seq} child tasks, its limit "
                f"(max_child_tasks = {limits.max_child_tasks}): do the rest yourself"
            )
        try:
            self._request(target, arguments)
        except InvalidInputError as error:
            return f"agent {target.agent!r} cannot take these arguments: {error}"
        return None

    def _request(
        self, target: AgentTarget, arguments: dict[str, Any]
    ) -> tuple[str, dict[str, str]]:
        goal, given = child_request(arguments)
        if not goal:
            raise InvalidInputError("goal is empty: say what the agent should achieve")
        return goal, validate_inputs(target.agent, target.inputs, given)

    async def call(
        self, call: ToolCall, record: ToolCallRecord, spec: ToolSpec, arguments: dict[str, Any]
    ) -> ToolCallResult:
        """Run the child task to its end; its answer (or its failure) as a tool result.

        Raises ``asyncio.CancelledError`` when this task is being cancelled (the child is
        cancelled with it).
        """
        task = self._task
        state = task.state
        target = spec.calls_agent
        assert target is not None
        late = self.refusal(spec, arguments)  # calls of one turn may have used the last slot
        if late is not None:
            text = f"Refused: {late}"
            return ToolCallResult(ok=False, content=text, full_chars=len(text))
        goal, inputs = self._request(target, arguments)
        state.child_seq += 1
        child_id = f"{state.task_id}/{target.agent}-{state.step}-{state.child_seq}"
        record.child_task_id = child_id
        task.refresh_details()
        link = ParentLink(
            task_id=state.task_id,
            agent=state.agent,
            step=state.step,
            call_id=call.id,
            depth=state.depth + 1,
            max_depth=self.max_depth,
            budget=remaining_budget(
                task.pinned_agent.spec.budgets,
                state.usage,
                task.input.parent.budget if task.input.parent else None,
                started=state.created_at or workflow.now(),
            ),
            policy_refs=[task.policy_ref, *task.policy_cap_refs],
        )
        handle = await workflow.start_child_workflow(
            target.workflow,
            TaskInput(agent=target.agent, goal=goal, inputs=inputs, parent=link),
            id=child_id,
            result_type=TaskResult,
            # A parent that ends while a child runs asks it to cancel: it ends CANCELLED
            # with its record intact (terminating would leave it mid-step).
            parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(AGENT, target.agent),
                    SearchAttributePair(STATUS, TaskStatus.PENDING.value),
                ]
            ),
            static_summary=f"{target.agent}: {goal[:120]} (called by {state.task_id})",
        )
        self._running[child_id] = handle
        pausing = task.controls.pause_requested_by
        if pausing is not None:  # asked for before the child existed
            self._signal(handle, ControlAction.PAUSE, OperatorRequest(by=pausing))
        try:
            result = await handle
        except ChildWorkflowError as error:
            if is_cancelled_exception(error) and workflow.cancellation_reason() is not None:
                raise asyncio.CancelledError() from error
            return self._failed(target.agent, child_id, error, spec)
        finally:
            self._running.pop(child_id, None)
        if result.usage is not None:
            add_child_usage(state.usage, result.usage)
        answer = result.result or ""
        return ToolCallResult(
            ok=True,
            content=preview(answer, spec.max_observation_chars),
            full_chars=len(answer),
            data={"task_id": child_id, "status": result.status.value},
        )

    def _failed(
        self, agent: str, child_id: str, error: ChildWorkflowError, spec: ToolSpec
    ) -> ToolCallResult:
        cause = error.cause
        if isinstance(cause, ApplicationError):
            detail = cause.message
            if cause.details:  # a failed child reports what it spent
                add_child_usage(
                    self._task.state.usage, BudgetUsage.model_validate(cause.details[0])
                )
        elif is_cancelled_exception(error):
            detail = "it was cancelled"
        else:
            detail = str(cause or error)
        text = f"Agent {agent!r} (task {child_id}) did not finish: {detail}"
        return ToolCallResult(
            ok=False,
            content=preview(text, spec.max_observation_chars),
            full_chars=len(text),
            data={"task_id": child_id, "status": "FAILED"},
        )

    def forward(self, action: ControlAction, request: OperatorRequest) -> None:
        """A pause or resume of this task reaches the children it is waiting for."""
        for handle in list(self._running.values()):
            self._signal(handle, action, request)

    def _signal(
        self,
        handle: ChildWorkflowHandle[Any, TaskResult],
        action: ControlAction,
        request: OperatorRequest,
    ) -> None:
        name = _FORWARDED.get(action)
        if name is None:
            return
        forwarded = OperatorRequest(by=f"{request.by} (via {self._task.state.task_id})")

        async def send() -> None:
            try:
                await handle.signal(name, forwarded)
            except Exception as error:  # the child ended meanwhile: nothing to pause
                workflow.logger.info("%s not forwarded to %s: %s", action.value, handle.id, error)

        sending = asyncio.create_task(send())
        self._sending.add(sending)
        sending.add_done_callback(self._sending.discard)
