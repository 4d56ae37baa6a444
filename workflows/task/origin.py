"""Where a task came from: by hand, from a schedule, or from another task's agent.

Recorded once, when the task's first run begins. A task a schedule started has its
inputs' placeholders (``taskcraft.schedules``) resolved here from the time the schedule
fired it, which Temporal records as the ``TemporalScheduledStartTime`` search attribute
(a backfilled run sees the time it stands for, not today). Tasks started by hand or by a
parent keep their inputs exactly as given.
"""

from __future__ import annotations

from temporalio import workflow

from taskcraft.errors import InvalidInputError
from taskcraft.schedules import resolve_placeholders
from taskcraft.task import TaskInput, TaskState
from workflows.search_attributes import SCHEDULED_START


def record_origin(state: TaskState, inp: TaskInput) -> None:
    if inp.parent is not None:
        state.parent_task_id = inp.parent.task_id
        state.depth = inp.parent.depth
    if inp.schedule is not None:
        info = workflow.info()
        fired_at = info.typed_search_attributes.get(SCHEDULED_START) or info.workflow_start_time
        state.schedule = inp.schedule.name
        state.scheduled_at = fired_at
        try:
            state.inputs = resolve_placeholders(inp.inputs, fired_at, inp.schedule.tz)
        except InvalidInputError as error:  # a zone this worker lacks: inputs stay as given
            workflow.logger.warning("scheduled inputs left as given: %s", error)
