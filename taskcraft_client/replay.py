"""A task's record from its history alone: replay the workflow here and read its state.

A finished task has no worker to answer a query, and a worker may be down while a task
waits; Temporal still has the task's whole event history. Replaying that history with
the workflow code in this process rebuilds exactly the record a worker would return.
Replay runs outside the sandbox: this is trusted code reading, not a worker running.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio import workflow
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

from taskcraft.errors import TaskcraftError
from taskcraft.task import TaskState


class ReplayError(TaskcraftError):
    """This process's workflow code cannot rebuild the task from its history."""


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
