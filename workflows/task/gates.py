"""Gates: a task holds until a human decides, or the gate times out.

Waiting is a durable timer plus a condition: no activity, no thread and nothing in the
worker's cache is needed, so a task can wait for days at no cost. A decision arrives as
the ``decide`` signal (Temporal UI) or the ``decide_and_confirm`` update (CLI, inbox,
client); both go through ``refusal`` first, so they can never disagree about what is
allowed, and a gate takes exactly one decision.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.common import RetryPolicy

from taskcraft.approvals import (
    ApprovalRequest,
    ApprovalSettings,
    Decision,
    DecisionKind,
    DecisionRecord,
    GateKind,
    TimeoutOutcome,
    refusal_reason,
)
from taskcraft.arguments import ArgumentError, validate_arguments
from taskcraft.calls import NOTIFY_ACTIVITY, NotifyInput
from taskcraft.details import DRAFT_SHOWN_CHARS, clip
from taskcraft.errors import TaskFailedError
from taskcraft.policy import CallView, Effect
from taskcraft.status import TaskStatus

if TYPE_CHECKING:
    from workflows.task.run import TaskRun

NOTIFY_TIMEOUT = timedelta(seconds=30)
# A notification is best effort: a channel that stays down must not be retried for as
# long as the gate waits (days), and it never holds the gate either way.
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=5,
)


class Gates:
    def __init__(self, task: TaskRun) -> None:
        self._task = task
        self._decision: DecisionRecord | None = None
        # One gate at a time: calls that run at once and all need a person queue here.
        self._one_at_a_time = asyncio.Lock()

    # ----- decisions arriving -------------------------------------------------------

    def refusal(self, decision: Decision) -> str | None:
        """Why ``decision`` cannot be applied now, or None when it can."""
        state = self._task.state
        reason = refusal_reason(
            status=state.status,
            pending=state.pending,
            decided_gate_ids=state.decided_gate_ids,
            decision=decision,
        )
        if reason is None and state.pending is not None:
            reason = self._edit_refusal(state.pending, decision)
        return reason

    def _edit_refusal(self, pending: ApprovalRequest, decision: Decision) -> str | None:
        """An edited tool call must still be a valid call that the policy does not deny."""
        pinned = self._task.pinned
        if decision.kind is not DecisionKind.EDIT or pending.tool is None or pinned is None:
            return None
        spec = pinned.tool(pending.tool)
        if spec is None or decision.arguments is None:
            return "the edited call no longer names a known tool"
        try:
            validate_arguments(spec.parameters, decision.arguments)
        except ArgumentError as error:
            return f"edited arguments are invalid: {error}"
        verdict = self._task.policy_decision(spec, pending.tool, decision.arguments)
        if verdict.effect is Effect.DENY:
            return f"edited arguments are denied by policy rule {verdict.rule_id}: {verdict.reason}"
        return None

    def receive(self, decision: Decision, *, via: str) -> DecisionRecord:
        """Record ``decision`` (refused or not); an applicable one answers the pending gate."""
        state = self._task.state
        refusal = self.refusal(decision)
        pending = state.pending
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
        state.decisions.append(record)
        if refusal is None:
            self._decision = record
        return record

    # ----- asking -------------------------------------------------------------------

    async def ask(
        self,
        *,
        kind: GateKind,
        title: str,
        reason: str,
        settings: ApprovalSettings | None = None,
        approvers: list[str] | None = None,
        tool: str | None = None,
        call_id: str | None = None,
        arguments: dict[str, object] | None = None,
        draft: str | None = None,
        view: CallView | None = None,
    ) -> DecisionRecord:
        """Hold the task at a gate until a human decides or the gate times out.

        ``settings`` default to the agent's approval settings; ``approvers`` (a policy
        rule's) replace theirs. The answer is the decision record: ``kind`` None means
        the gate timed out and was rejected for that reason.
        """
        async with self._one_at_a_time:
            return await self._ask(
                kind=kind,
                title=title,
                reason=reason,
                settings=settings,
                approvers=approvers,
                tool=tool,
                call_id=call_id,
                arguments=arguments,
                draft=draft,
                view=view,
            )

    async def _ask(
        self,
        *,
        kind: GateKind,
        title: str,
        reason: str,
        settings: ApprovalSettings | None,
        approvers: list[str] | None,
        tool: str | None,
        call_id: str | None,
        arguments: dict[str, object] | None,
        draft: str | None,
        view: CallView | None,
    ) -> DecisionRecord:
        task = self._task
        state = task.state
        settings = settings or task.pinned_agent.spec.approval
        state.gate_seq += 1
        now = workflow.now()
        request = ApprovalRequest(
            gate_id=f"g{state.gate_seq}",
            kind=kind,
            title=title,
            reason=reason,
            step=state.step,
            approvers=list(approvers if approvers is not None else settings.approvers),
            asked_at=now,
            timeout_at=now + timedelta(seconds=settings.timeout_s),
            on_timeout=settings.on_timeout,
            escalate_to=list(settings.escalate_to),
            tool=tool,
            call_id=call_id,
            arguments=dict(arguments) if arguments is not None else None,
            draft=draft,
            view=view,
        )
        state.pending = request
        self._decision = None
        task.set_status(TaskStatus.AWAITING_APPROVAL, f"waiting for approval: {title}")
        self._notify(request, escalation=False)
        try:
            record = await self._await_decision(request, settings)
        except TaskFailedError:
            state.pending = None
            raise
        # (A cancel leaves ``pending`` to the cancel's own record keeping: an operator's
        # cancel clears it, and a worker evicting the task from its cache must not.)
        state.pending = None
        workflow.metric_meter().create_histogram_float(
            "taskcraft_approval_wait_seconds", "From a gate's request to its decision", "s"
        ).record((workflow.now() - request.asked_at).total_seconds(), {"kind": kind.value})
        task.set_status(TaskStatus.RUNNING)
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
                self._task.refresh_details()
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
            self._task.state.decisions.append(record)
            if request.on_timeout is TimeoutOutcome.FAIL:
                raise TaskFailedError(f"gate {request.gate_id} timed out with no decision")
            return record

    def _notify(self, request: ApprovalRequest, *, escalation: bool) -> None:
        state = self._task.state
        summary = request.reason
        if request.tool is not None:
            summary = f"{request.tool}({request.arguments}) — {request.reason}"
        elif request.draft is not None:
            whole = "the inbox or `taskcraft status` has it whole"
            summary = f"{request.reason}\n---\n{clip(request.draft, DRAFT_SHOWN_CHARS, whole)}"
        workflow.start_activity(
            NOTIFY_ACTIVITY,
            NotifyInput(
                task_id=state.task_id,
                agent=state.agent,
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
