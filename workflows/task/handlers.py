"""``TaskWorkflow``: the handlers every task workflow offers, each delegating to ``self.task``.

Subclass it for a workflow of your own (``examples/incident_report`` does), write a
``@workflow.run`` method that works through ``self.task`` (a ``TaskRun``), and the task
gets what every task has:

- query ``state`` → ``TaskState``: the whole record, at any time, also after the task ended.
- signal ``decide`` (``Decision``) and update ``decide_and_confirm`` (``Decision`` →
  ``UpdateOutcome``): answer the pending gate. The update's validator refuses without
  writing history; the signal records a refusal in the task's decisions.
- signals ``pause``, ``resume``, ``message`` (``OperatorRequest``) and update ``control``
  (``ControlRequest`` → ``UpdateOutcome``): pause after the current step, resume (also
  ends a RECOVERING wait early), or leave a note the model reads at its next turn.
- cancellation (``taskcraft cancel``): the task ends CANCELLED with its record intact.

Handler names are part of every task's contract with the CLI, the inbox and running
tasks: never rename one (``taskcraft.handlers`` holds them for callers).
"""

from __future__ import annotations

from temporalio import workflow

from taskcraft import handlers
from taskcraft.approvals import Decision
from taskcraft.controls import ControlAction, ControlRequest, OperatorRequest, UpdateOutcome
from taskcraft.task import TaskInput, TaskState
from workflows.task.run import TaskRun


class TaskWorkflow:
    @workflow.init
    def __init__(self, inp: TaskInput) -> None:
        self.task = TaskRun(inp)

    @workflow.query(name=handlers.STATE)
    def get_state(self) -> TaskState:
        """The task's whole record: status, steps, pending gate, decisions, audit, usage."""
        return self.task.state

    @workflow.signal(name=handlers.DECIDE)
    def decide_signal(self, decision: Decision) -> None:
        """Answer the pending gate: {"kind": "approve"|"reject"|"edit", "approver": "...", ...}."""
        self.task.gates.receive(decision, via="signal")

    @workflow.update(name=handlers.DECIDE_AND_CONFIRM)
    def decide_update(self, decision: Decision) -> UpdateOutcome:
        """Answer the pending gate and get a definite answer (used by the CLI and inbox)."""
        record = self.task.gates.receive(decision, via="update")
        return UpdateOutcome(
            applied=record.applied,
            status=self.task.state.status,
            gate_id=record.gate_id,
            message=record.refusal
            or f"{record.kind} recorded for gate {record.gate_id} by {record.approver}",
        )

    @decide_update.validator
    def _validate_decide(self, decision: Decision) -> None:
        reason = self.task.gates.refusal(decision)
        if reason is not None:
            raise ValueError(reason)

    @workflow.signal(name=handlers.PAUSE)
    def pause_signal(self, request: OperatorRequest) -> None:
        """Pause after the current step; the task waits in PAUSED until resumed."""
        self.task.controls.apply(_control(ControlAction.PAUSE, request))

    @workflow.signal(name=handlers.RESUME)
    def resume_signal(self, request: OperatorRequest) -> None:
        """Resume a paused task, or end a RECOVERING wait early."""
        self.task.controls.apply(_control(ControlAction.RESUME, request))

    @workflow.signal(name=handlers.MESSAGE)
    def message_signal(self, request: OperatorRequest) -> None:
        """Leave a note (``text``) that the model reads at its next turn."""
        self.task.controls.apply(_control(ControlAction.MESSAGE, request))

    @workflow.update(name=handlers.CONTROL)
    def control_update(self, request: ControlRequest) -> UpdateOutcome:
        """Pause, resume or message, with a definite answer."""
        return self.task.controls.apply(request)

    @control_update.validator
    def _validate_control(self, request: ControlRequest) -> None:
        reason = self.task.controls.refusal(request)
        if reason is not None:
            raise ValueError(reason)


def _control(action: ControlAction, request: OperatorRequest) -> ControlRequest:
    return ControlRequest(action=action, by=request.by, text=request.text)
