"""What every task workflow shares: the record, the status, gates and operator controls.

Handlers (shared by every task workflow):

- query ``state`` → ``TaskState``: the whole record, at any time, also after the task ended.
- signal ``decide`` (``Decision``) and update ``decide_and_confirm`` (``Decision`` →
  ``UpdateOutcome``): answer the pending gate. Both go through ``_decision_refusal``; the
  update's validator refuses without writing history, the signal records the refusal.
- signals ``pause``, ``resume``, ``message`` (``OperatorRequest``) and update ``control``
  (``ControlRequest`` → ``UpdateOutcome``): pause after the current step, resume (also
  ends a RECOVERING wait early), or leave a note the model reads at its next turn. A
  control that makes no sense (resume with nothing paused, an empty note) is refused by
  the update's validator and ignored, with a warning, on the signal path.
- cancellation (``taskcraft cancel``): the task ends CANCELLED with its record intact.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from taskcraft.agents import PinnedAgent
from taskcraft.approvals import (
    ApprovalRequest,
    ApprovalSettings,
    Decision,
    DecisionRecord,
    GateKind,
    TimeoutOutcome,
    refusal_reason,
)
from taskcraft.calls import NOTIFY_ACTIVITY, NotifyInput
from taskcraft.controls import ControlAction, ControlRequest, OperatorRequest, UpdateOutcome
from taskcraft.details import DRAFT_SHOWN_CHARS, clip, render_details
from taskcraft.status import TaskStatus
from taskcraft.task import HumanNote, TaskInput, TaskState
from workflows.search_attributes import STATUS

NOTIFY_TIMEOUT = timedelta(seconds=30)
# A notification is best effort: a channel that stays down must not be retried for as
# long as the gate waits (days), and it never holds the gate either way.
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=5,
)


class TaskFailedError(Exception):
    """Ends the task FAILED with this message as its error."""


class TaskWorkflowBase:
    @workflow.init
    def __init__(self, inp: TaskInput) -> None:
        info = workflow.info()
        if inp.carried is not None:
            self.state = inp.carried.state
            self.pinned: PinnedAgent | None = inp.carried.pinned
        else:
            self.state = TaskState(
                task_id=info.workflow_id,
                agent=inp.agent,
                goal=inp.goal,
                inputs=inp.inputs,
                created_at=workflow.now(),
                updated_at=workflow.now(),
            )
            self.pinned = None
        self._decision: DecisionRecord | None = None
        self._pause_requested_by: str | None = self.state.paused_by
        self._wake = False

    # ----- status ---------------------------------------------------------------------

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

    # ----- queries and handlers -----------------------------------------------------

    @workflow.query(name="state")
    def get_state(self) -> TaskState:
        """The task's whole record: status, steps, pending gate, decisions, audit, usage."""
        return self.state

    @workflow.signal(name="decide")
    def decide_signal(self, decision: Decision) -> None:
        """Answer the pending gate: {"kind": "approve"|"reject"|"edit", "approver": "...", ...}."""
        self._receive_decision(decision, via="signal")

    @workflow.update(name="decide_and_confirm")
    def decide_update(self, decision: Decision) -> UpdateOutcome:
        """Answer the pending gate and get a definite answer (used by the CLI and inbox)."""
        record = self._receive_decision(decision, via="update")
        return UpdateOutcome(
            applied=record.applied,
            status=self.state.status,
            gate_id=record.gate_id,
            message=record.refusal
            or f"{record.kind} recorded for gate {record.gate_id} by {record.approver}",
        )

    @decide_update.validator
    def _validate_decide(self, decision: Decision) -> None:
        reason = self._decision_refusal(decision)
        if reason is not None:
            raise ValueError(reason)

    @workflow.signal(name="pause")
    def pause_signal(self, request: OperatorRequest) -> None:
        """Pause after the current step; the task waits in PAUSED until resumed."""
        self._control(ControlRequest(action=ControlAction.PAUSE, by=request.by, text=request.text))

    @workflow.signal(name="resume")
    def resume_signal(self, request: OperatorRequest) -> None:
        """Resume a paused task, or end a RECOVERING wait early."""
        self._control(ControlRequest(action=ControlAction.RESUME, by=request.by, text=request.text))

    @workflow.signal(name="message")
    def message_signal(self, request: OperatorRequest) -> None:
        """Leave a note (``text``) that the model reads at its next turn."""
        self._control(
            ControlRequest(action=ControlAction.MESSAGE, by=request.by, text=request.text)
        )

    @workflow.update(name="control")
    def control_update(self, request: ControlRequest) -> UpdateOutcome:
        """Pause, resume or message, with a definite answer."""
        return self._control(request)

    @control_update.validator
    def _validate_control(self, request: ControlRequest) -> None:
        reason = self._control_refusal(request)
        if reason is not None:
            raise ValueError(reason)

    def _control_refusal(self, request: ControlRequest) -> str | None:
        status = self.state.status
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

    def _control(self, request: ControlRequest) -> UpdateOutcome:
        refusal = self._control_refusal(request)
        if refusal is not None:
            # Only the signal path gets here (the update's validator refused already).
            workflow.logger.warning("control %s ignored: %s", request.action.value, refusal)
            return UpdateOutcome(applied=False, status=self.state.status, message=refusal)
        status = self.state.status
        if request.action is ControlAction.PAUSE:
            if status is TaskStatus.PAUSED:
                message = f"already paused by {self.state.paused_by}"
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
            self.state.notes.append(
                HumanNote(author=request.by, text=request.text, at=workflow.now())
            )
            message = "note added; the model reads it at its next turn"
        self.state.updated_at = workflow.now()
        return UpdateOutcome(applied=True, status=self.state.status, message=message)

    # ----- decisions ------------------------------------------------------------------

    def _decision_refusal(self, decision: Decision) -> str | None:
        reason = refusal_reason(
            status=self.state.status,
            pending=self.state.pending,
            decided_gate_ids=self.state.decided_gate_ids,
            decision=decision,
        )
        if reason is None and self.state.pending is not None:
            reason = self.edit_refusal(self.state.pending, decision)
        return reason

    def edit_refusal(self, pending: ApprovalRequest, decision: Decision) -> str | None:
        """Workflow-specific checks of an edit (arguments valid, still allowed by policy)."""
        return None

    def _receive_decision(self, decision: Decision, *, via: str) -> DecisionRecord:
        refusal = self._decision_refusal(decision)
        pending = self.state.pending
        record = DecisionRecord(
            gate_id=decision.gate_id or (pending.gate_id if pending else "-"),
            kind=decision.kind,
            approver=decision.approver,
            at=workflow.now(),
            via=via,
            applied=refusal is None,
            comment=decision.comment,
            reason=decision.reason,
            arguments=decision.arguments,
            draft=decision.draft,
            refusal=refusal,
        )
        self.state.decisions.append(record)
        if refusal is None:
            self._decision = record
        return record

    # ----- gates ----------------------------------------------------------------------

    async def ask_approval(
        self,
        *,
        kind: GateKind,
        title: str,
        reason: str,
        settings: ApprovalSettings,
        approvers: list[str] | None = None,
        tool: str | None = None,
        call_id: str | None = None,
        arguments: dict[str, object] | None = None,
        draft: str | None = None,
    ) -> DecisionRecord:
        """Hold the task at a gate until a human decides or the gate times out.

        Waiting is a durable timer plus a condition: no activity, no thread, nothing in
        the worker's cache is needed, so a task can wait for days at no cost.
        """
        self.state.gate_seq += 1
        now = workflow.now()
        request = ApprovalRequest(
            gate_id=f"g{self.state.gate_seq}",
            kind=kind,
            title=title,
            reason=reason,
            step=self.state.step,
            approvers=list(approvers if approvers is not None else settings.approvers),
            asked_at=now,
            timeout_at=now + timedelta(seconds=settings.timeout_s),
            on_timeout=settings.on_timeout,
            escalate_to=list(settings.escalate_to),
            tool=tool,
            call_id=call_id,
            arguments=dict(arguments) if arguments is not None else None,
            draft=draft,
        )
        self.state.pending = request
        self._decision = None
        self.set_status(TaskStatus.AWAITING_APPROVAL, f"waiting for approval: {title}")
        self._notify(request, escalation=False)
        try:
            record = await self._await_decision(request, settings)
        finally:
            self.state.pending = None
        workflow.metric_meter().create_histogram_float(
            "taskcraft_approval_wait_seconds", "From a gate's request to its decision", "s"
        ).record((workflow.now() - request.asked_at).total_seconds(), {"kind": kind.value})
        self.set_status(TaskStatus.RUNNING)
        return record

    async def _await_decision(
        self, request: ApprovalRequest, settings: ApprovalSettings
    ) -> DecisionRecord:
        while True:
            remaining = request.timeout_at - workflow.now()
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._decision is not None,
                    timeout=max(remaining, timedelta(seconds=1)),
                    timeout_summary=f"gate {request.gate_id} times out",
                )
            if self._decision is not None:
                return self._decision
            if (
                request.on_timeout is TimeoutOutcome.ESCALATE
                and not request.escalated
                and request.escalate_to
            ):
                request.escalated = True
                request.timeout_at = workflow.now() + timedelta(
                    seconds=settings.escalation_timeout_s
                )
                self.refresh_details()
                self._notify(request, escalation=True)
                continue
            record = DecisionRecord(
                gate_id=request.gate_id,
                kind=None,
                approver="timeout",
                at=workflow.now(),
                via="timeout",
                applied=True,
                reason=f"no decision was made before gate {request.gate_id} timed out",
            )
            self.state.decisions.append(record)
            if request.on_timeout is TimeoutOutcome.FAIL:
                raise TaskFailedError(f"gate {request.gate_id} timed out with no decision")
            return record

    def _notify(self, request: ApprovalRequest, *, escalation: bool) -> None:
        summary = request.reason
        if request.tool is not None:
            summary = f"{request.tool}({request.arguments}) — {request.reason}"
        elif request.draft is not None:
            whole = "the inbox or `taskcraft status` has it whole"
            summary = f"{request.reason}\n---\n{clip(request.draft, DRAFT_SHOWN_CHARS, whole)}"
        workflow.start_activity(
            NOTIFY_ACTIVITY,
            NotifyInput(
                task_id=self.state.task_id,
                agent=self.state.agent,
                gate_id=request.gate_id,
                title=request.title,
                summary=summary,
                approvers=request.escalate_to if escalation else request.approvers,
                escalation=escalation,
                timeout_at=request.timeout_at,
            ),
            start_to_close_timeout=NOTIFY_TIMEOUT,
            retry_policy=NOTIFY_RETRY,
            summary=f"notify · gate {request.gate_id}",
        )

    # ----- pausing ------------------------------------------------------------------

    async def honour_pause(self) -> None:
        """Called between steps: a pause takes effect here, never mid-step."""
        if self._pause_requested_by is None:
            return
        self.state.paused_by = self._pause_requested_by
        self.set_status(TaskStatus.PAUSED, f"paused by {self._pause_requested_by}")
        await workflow.wait_condition(lambda: self._pause_requested_by is None)
        self.state.paused_by = None
        self.set_status(TaskStatus.RUNNING)

    def wake_requested(self) -> bool:
        return self._wake

    def take_wake(self) -> bool:
        woke, self._wake = self._wake, False
        return woke
