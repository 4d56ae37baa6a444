"""A task's record from its history alone: replay the workflow here and read its state.

A finished task has no worker to answer a query, and a worker may be down while a task
waits; Temporal still has the task's whole event history. Replaying that history with
the workflow code in this process rebuilds exactly the record a worker would return.
Replay runs outside the sandbox: this is trusted code reading, not a worker running.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    Replayer,
    UnsandboxedWorkflowRunner,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from taskcraft.errors import ReplayError
from taskcraft.task import TaskState

_CLOSING_EVENTS = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }
)


class _Catch(Interceptor):
    """Keeps a reference to each workflow instance replay creates (one per history)."""

    def __init__(self) -> None:
        self.instances: list[Any] = []

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        instances = self.instances

        class Inbound(WorkflowInboundInterceptor):
            async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
                instances.append(workflow.instance())
                return await super().execute_workflow(input)

        return Inbound


def processed_part(history: WorkflowHistory) -> WorkflowHistory | None:
    """The history up to the last workflow task a worker completed (None: there is none).

    Events after it are real, but no worker has acted on them yet: replaying them here
    would show what this process's code would do next, not what the task did.
    """
    completed = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    last = max((i for i, e in enumerate(history.events) if e.event_type == completed), default=-1)
    if last < 0:
        return None
    closes = history.events[-1].event_type in _CLOSING_EVENTS
    events = history.events if closes else history.events[: last + 1]
    return WorkflowHistory(history.workflow_id, list(events))


@contextmanager
def _quiet_sdk() -> Iterator[None]:
    """Replay failures are reported as one line by the caller, not as the SDK's traceback."""
    sdk = logging.getLogger("temporalio")
    level = sdk.level
    sdk.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        sdk.setLevel(level)


async def state_from_history(
    history: WorkflowHistory, workflows: Sequence[type], converter: DataConverter
) -> TaskState:
    catch = _Catch()
    replayer = Replayer(
        workflows=list(workflows),
        data_converter=converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
        interceptors=[catch],
    )
    with _quiet_sdk():
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    if result.replay_failure is not None:
        raise ReplayError(
            f"task {history.workflow_id} cannot be read from its history with this version "
            f"of Taskcraft ({str(result.replay_failure).splitlines()[0][:200]})"
        )
    task = getattr(catch.instances[0], "task", None) if catch.instances else None
    state = getattr(task, "state", None)
    if not isinstance(state, TaskState):
        raise ReplayError(f"{history.workflow_id} is not a Taskcraft task")
    return state
