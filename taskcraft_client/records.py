"""Reading a task's record: ask its worker, or rebuild it from history when none can answer.

A running task's worker answers the ``state`` query. A closed task, or a running one
whose worker is down, is read from Temporal alone by replaying its history here
(``replay``), so ``taskcraft status`` works without any worker; when the task is open
and nobody answered, the reading says so and why ("no worker is polling task queue X").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from taskcraft import handlers
from taskcraft.errors import CodecKeysError, UnknownTaskError
from taskcraft.task import TaskInput, TaskState
from taskcraft_client.codec_errors import ENCRYPTED, decoding_errors, keys_hint
from taskcraft_client.replay import processed_part, state_from_history

# RPC failures that mean "no worker answered", not "the request is wrong". (The client
# reports its own rpc_timeout as CANCELLED "Timeout expired".)
NO_ANSWER_CODES = frozenset(
    {RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.FAILED_PRECONDITION}
)


@dataclass(frozen=True)
class Reading:
    """A task's record, where it came from, and anything a reader should know about it."""

    state: TaskState
    live: bool  # answered by the task's worker (else rebuilt from history)
    task_queue: str
    note: str | None = None  # e.g. "no worker is polling task queue X"


async def pollers(client: Client, task_queue: str) -> int:
    """How many workers poll ``task_queue`` for workflow tasks right now."""
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return len(answer.pollers)


def no_worker_note(task_queue: str) -> str:
    return (
        f"no worker is polling task queue {task_queue}: start one there "
        f"(TASKCRAFT_TASK_QUEUE={task_queue} python worker.py)"
    )


async def read(
    client: Client,
    task_id: str,
    workflows: Sequence[type],
    *,
    run_id: str | None = None,
    query_timeout: timedelta = timedelta(seconds=5),
) -> Reading:
    handle = client.get_workflow_handle(task_id, run_id=run_id)
    with decoding_errors(task_id):
        try:
            description = await handle.describe()
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                raise UnknownTaskError(f"no task with id {task_id!r}") from None
            raise
        queue = description.raw_description.execution_config.task_queue.name
        if description.status is not WorkflowExecutionStatus.RUNNING:
            return Reading(
                await _replayed(client, task_id, description.run_id, workflows), False, queue
            )
        try:
            state: TaskState = await handle.query(
                handlers.STATE, result_type=TaskState, rpc_timeout=query_timeout
            )
            return Reading(state, True, queue)
        except RPCError as error:
            if error.status not in NO_ANSWER_CODES:
                raise
        note = (
            no_worker_note(queue)
            if await pollers(client, queue) == 0
            else (
                f"the task's worker did not answer within {query_timeout.total_seconds():g} s "
                f"(task queue {queue})"
            )
        )
        replayed = await _replayed(client, task_id, description.run_id, workflows)
        return Reading(replayed, False, queue, note + "; shown as of its last recorded event")


async def _replayed(
    client: Client, task_id: str, run_id: str | None, workflows: Sequence[type]
) -> TaskState:
    history = await client.get_workflow_handle(task_id, run_id=run_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    if client.data_converter.payload_codec is None and any(
        payload.metadata.get("encoding") == ENCRYPTED.encode() for payload in started.input.payloads
    ):
        raise CodecKeysError(keys_hint(task_id))
    processed = processed_part(history)
    if processed is None:  # no worker has run it yet: the record it starts with
        [inp] = await client.data_converter.decode(started.input.payloads, [TaskInput])
        return TaskState(
            task_id=task_id,
            agent=inp.agent,
            goal=inp.goal,
            inputs=inp.inputs,
            created_at=history.events[0].event_time.ToDatetime(tzinfo=UTC),
            updated_at=history.events[0].event_time.ToDatetime(tzinfo=UTC),
        )
    return await state_from_history(processed, workflows, client.data_converter)
