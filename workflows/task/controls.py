"""Operator controls: pause after the current step, resume, leave a note for the model.

Pausing or resuming a task pauses or resumes the child tasks it is waiting for (its
agents' calls of other agents). A control arrives as a signal (from the Temporal UI) or as the ``control`` update (from
the CLI, the inbox and the Python client); both go through ``refusal`` and ``apply``, so
the two paths agree. A pause takes effect between steps, never mid-step; ``resume``
also ends a RECOVERING wait early.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import workflow

from taskcraft.controls import ControlAction, ControlRequest, UpdateOutcome
from taskcraft.status import TaskStatus
from taskcraft.task import ControlRecord, HumanNote

if TYPE_CHECKING:
    from workflows.task.run import TaskRun


class Controls:
    def __init__(self, task: TaskRun) -> None:
        self._task = task
        self._pause_requested_by: str | None = task.state.paused_by
        self._wake = False

    @property
    def pause_requested(self) -> bool:
        return self._pause_requested_by is not None

    @property
    def pause_requested_by(self) -> str | None:
        return self._pause_requested_by

    def refusal(self, request: ControlRequest) -> str | None:
        """Why ``request`` makes no sense now, or None."""
        status = self._task.state.status
        if status.is_terminal:
            return f"task is already {status.value}"
        if request.action is ControlAction.MESSAGE and not request.text.strip():
            return "a message needs text"
        if (
            request.action is ControlAction.RESUME
            and self._pause_requested_by is None
            and status not in (TaskStatus.PAUSED, TaskStatus.RECOVERING)
        ):
            return f"task is not paused (it is {status.value}); there is nothing to resume"
        return None

    def apply(self, request: ControlRequest) -> UpdateOutcome:
        state = self._task.state
        refusal = self.refusal(request)
        if refusal is not None:
            # Only the signal path gets here (the update's validator refused already).
            workflow.logger.warning("control %s ignored: %s", request.action.value, refusal)
            self._record(request, applied=False, detail=refusal)
            return UpdateOutcome(applied=False, status=state.status, message=refusal)
        status = state.status
        if request.action is ControlAction.PAUSE:
            if status is TaskStatus.PAUSED:
                message = f"already paused by {state.paused_by}"
                self._record(request, applied=False, detail=message)
                return UpdateOutcome(applied=False, status=status, message=message)
            self._pause_requested_by = request.by
            message = "pause requested: the task pauses after its current step"
        elif request.action is ControlAction.RESUME:
            if status is TaskStatus.PAUSED:
                message = "resumed: the task continues with its next step"
            elif status is TaskStatus.RECOVERING:
                message = "resumed: the model route is tried again now"
            else:
                message = "pause request withdrawn: the task keeps running"
            self._pause_requested_by = None
            self._wake = True
        else:
            state.notes.append(HumanNote(author=request.by, text=request.text, at=workflow.now()))
            message = "note added; the model reads it at its next turn"
        if request.action is not ControlAction.MESSAGE:  # the children it waits for follow
            self._task.children.forward(request.action, request)
        state.updated_at = workflow.now()
        self._record(request, applied=True, detail=message)
        return UpdateOutcome(applied=True, status=state.status, message=message)

    def _record(self, request: ControlRequest, *, applied: bool, detail: str) -> None:
        """Pauses and resumes go into the task's story (notes have a record of their own)."""
        if request.action is ControlAction.MESSAGE:
            return
        state = self._task.state
        state.controls.append(
            ControlRecord(
                action=request.action.value,
                by=request.by,
                at=workflow.now(),
                step=state.step,
                applied=applied,
                detail=detail,
            )
        )

    async def honour_pause(self) -> None:
        """Called between steps: a pause takes effect here, never mid-step."""
        if self._pause_requested_by is None:
            return
        task = self._task
        task.state.paused_by = self._pause_requested_by
        task.set_status(TaskStatus.PAUSED, f"paused by {self._pause_requested_by}")
        await workflow.wait_condition(lambda: self._pause_requested_by is None)
        task.state.paused_by = None
        task.set_status(TaskStatus.RUNNING)

    def wake_requested(self) -> bool:
        return self._wake

    def take_wake(self) -> bool:
        """Whether a ``resume`` arrived since the last call (and forget it)."""
        woke, self._wake = self._wake, False
        return woke
