"""IncidentReportWorkflow: the weekly incident report, sent to Slack once a manager approves.

Built on the agent machinery rather than beside it: pinning (with the connector check),
every tool call through ``ToolCallRunner`` (policy, audit, gates, the activity's re-check,
the step record), the model through ``call_model`` (failover, RECOVERING), budgets, pause
and cancel all behave exactly as for any agent. Only the plan is fixed, not the model's.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from typing import Any

from temporalio import workflow

from taskcraft.approvals import ApprovalSettings, DecisionKind, DecisionRecord, GateKind
from taskcraft.catalog import ReportData, report_request, revision_request
from taskcraft.incidents import IncidentStats, LogSummary, ReportWindow
from taskcraft.messages import Message, ToolCall
from taskcraft.status import TaskStatus
from taskcraft.task import StepRecord, TaskInput, TaskResult, ToolCallRecord, ToolOutcome
from workflows.agent import AgentWorkflow
from workflows.task_base import TaskFailedError
from workflows.tool_calls import ToolCallRunner

SEND_TOOL = "send_slack_message"
MAX_TICKETS = 1000  # the most jira_search returns; the statistics cover all of them
DEFAULT_PROJECT = "INC"
# What a step's "model" column says when the workflow, not a model, chose the calls.
PLANNED = "workflow"
_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,19}$")


def json_field(content: str, key: str) -> Any:
    """``key`` of a tool's JSON result, also from an observation cut at the tool's limit.

    The connectors put their summary fields before the long lists, so a cut observation
    still holds them whole.
    """
    try:
        return json.loads(content)[key]
    except (ValueError, KeyError, TypeError):
        pass
    marker = content.find(f'"{key}":')
    if marker < 0:
        raise TaskFailedError(f"the tool result has no {key!r}: {content[:200]}")
    start = marker + len(key) + 3
    try:
        value, _ = json.JSONDecoder().raw_decode(content[start:].lstrip())
    except ValueError as error:
        raise TaskFailedError(f"the tool result's {key!r} is cut short: {error}") from error
    return value


@workflow.defn(name="IncidentReportWorkflow")
class IncidentReportWorkflow(AgentWorkflow):
    """Tickets and logs for one ISO week → a model-written draft → approval → one Slack post.

    Inputs: ``week=YYYY-Www`` (default: the ISO week before the task started) and
    ``project=KEY`` (default INC). Steps: INITIALIZING (inputs, pin, connector check) →
    step 1 ``jira_search`` and ``query_logs`` → step 2 the model drafts the message →
    AWAITING_APPROVAL on a checkpoint gate holding the draft (also in ``extra["draft"]``)
    → ``send_slack_message`` with the approved text. A rejection's reason goes back to the
    model, whose revised draft is asked about again; an edit (``--draft``) is sent as edited.

    Handlers, as for every task (``TaskWorkflowBase``): query ``state``; signal ``decide``
    and update ``decide_and_confirm`` answer the gate (approve, reject with a reason, or
    edit the draft); ``pause``/``resume``/``message`` and update ``control`` steer it
    (a message reaches the model at its next draft); cancellation ends it CANCELLED.
    """

    @workflow.init
    def __init__(self, inp: TaskInput) -> None:
        super().__init__(inp)
        # The checkpoint decision that also stands for the send of exactly this text.
        self._send_approval: tuple[str, DecisionRecord] | None = None

    @workflow.run
    async def run(self, inp: TaskInput) -> TaskResult:
        try:
            window, project = self._report_inputs(inp)
            await self._initialize(inp)
            self.set_status(TaskStatus.RUNNING, f"gathering {project} incidents, {window.label}")
            data = await self._gather(window, project)
            text, verdict = await self._draft_until_approved(data)
            return await self._send(text, verdict)
        except TaskFailedError as failure:
            self._fail(str(failure))
        except asyncio.CancelledError:
            self._mark_cancelled()
            raise

    def _report_inputs(self, inp: TaskInput) -> tuple[ReportWindow, str]:
        week = inp.inputs.get("week", "").strip()
        if not week:
            year, number, _ = (workflow.now() - timedelta(days=7)).isocalendar()
            week = f"{year}-W{number:02d}"
        project = inp.inputs.get("project", DEFAULT_PROJECT).strip().upper()
        if not _PROJECT_KEY.match(project):
            raise TaskFailedError(f"input project={project!r} is not a Jira project key like INC")
        try:
            window = ReportWindow.from_iso_week(week)
        except ValueError as error:
            raise TaskFailedError(f"input week: {error}") from error
        self.state.extra.update({"week": window.label, "project": project, "revisions": 0})
        return window, project

    # ----- steps ------------------------------------------------------------------------

    def _begin_step(self, model: str, text: str = "") -> StepRecord:
        self.state.step += 1
        self.steps_this_run += 1
        self.state.usage.steps += 1
        record = StepRecord(step=self.state.step, model=model, text=text, started_at=workflow.now())
        self.state.steps.append(record)
        self.refresh_details()
        return record

    async def _tool(self, record: StepRecord, name: str, arguments: dict[str, Any]) -> str:
        """One governed tool call; anything but success ends the task with the reason."""
        call = ToolCall(
            id=f"{name}-{record.step}", name=name, arguments=json.dumps(arguments, sort_keys=True)
        )
        call_record = ToolCallRecord(call_id=call.id, name=name, arguments=call.arguments)
        record.tool_calls.append(call_record)
        self.refresh_details()
        observation = await ToolCallRunner(self).run(call, call_record)
        if call_record.outcome is not ToolOutcome.OK:
            raise TaskFailedError(f"{name} did not succeed: {observation.content}")
        return observation.content

    async def _gather(self, window: ReportWindow, project: str) -> ReportData:
        await self.honour_pause()
        record = self._begin_step(
            PLANNED, f"Collect the {project} tickets and logs, {window.label}."
        )
        tickets, logs = await asyncio.gather(
            self._tool(
                record, "jira_search", {"jql": window.jira_jql(project), "max_results": MAX_TICKETS}
            ),
            self._tool(
                record,
                "query_logs",
                {"start": window.start.isoformat(), "end": window.end.isoformat()},
            ),
        )
        record.finished_at = workflow.now()
        stats = IncidentStats.model_validate(json_field(tickets, "stats"))
        summary = LogSummary.model_validate(json_field(logs, "summary"))
        self.state.extra.update(
            {
                "tickets": stats.total,
                "log_events": summary.total,
                "sources": {
                    "tickets": json_field(tickets, "source"),
                    "logs": json_field(logs, "source"),
                },
            }
        )
        return ReportData(project=project, window=window, stats=stats, logs=summary)

    async def _draft(self) -> str:
        """One model turn on the report conversation: the first draft or a revision."""
        await self.honour_pause()
        await self._check_budgets()
        record = self._begin_step("")
        self._take_notes()
        # No tools offered: the model writes; the workflow makes the calls.
        message = await self._model_turn(record, tools_ref=None)
        record.finished_at = workflow.now()
        draft = message.content.strip()
        if not draft:
            raise TaskFailedError(f"{record.model} answered with an empty draft")
        return draft

    async def _draft_until_approved(self, data: ReportData) -> tuple[str, DecisionRecord]:
        spec = self.pinned_agent.spec
        self.pending_messages = [
            Message.system(spec.instructions),
            Message.user(report_request(data)),
        ]
        while True:
            draft = await self._draft()
            self.state.extra["draft"] = draft
            verdict = await self.ask_approval(
                kind=GateKind.CHECKPOINT,
                title=f"send the {data.project} incident report for {data.window.label} to Slack",
                reason="the weekly report is sent only after a manager approves the draft",
                settings=spec.approval,
                draft=draft,
            )
            if verdict.kind is DecisionKind.APPROVE:
                return draft, verdict
            if verdict.kind is DecisionKind.EDIT and verdict.draft:
                self.state.extra["draft"] = verdict.draft
                return verdict.draft, verdict
            if verdict.kind is None:  # a gate configured to reject on timeout
                raise TaskFailedError(f"{verdict.reason}; the report was not sent")
            self.state.extra["revisions"] += 1
            self.pending_messages = [
                Message.user(revision_request(verdict.approver, verdict.reason))
            ]

    async def _send(self, text: str, verdict: DecisionRecord) -> TaskResult:
        record = self._begin_step(PLANNED, f"Send the report {verdict.approver} approved.")
        self._send_approval = (text, verdict)
        sent = json.loads(await self._tool(record, SEND_TOOL, {"text": text}))
        record.finished_at = workflow.now()
        self.state.extra["sent"] = {
            key: sent.get(key) for key in ("sink", "channel", "ts", "text_sha256", "already_sent")
        }
        where = sent["sink"] + (f" {sent['channel']}" if sent.get("channel") else "")
        return self._complete(
            f"Sent the {self.state.extra['project']} incident report for "
            f"{self.state.extra['week']} to {where}, approved by {verdict.approver}.\n\n{text}"
        )

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
        """The approved draft also approves its send: the manager is never asked twice.

        Only for that exact text, once, and only when the approver is one the policy
        rule accepts; any other call that needs approval gets a gate of its own.
        """
        standing = self._send_approval
        if (
            standing is not None
            and kind is GateKind.TOOL_CALL
            and tool == SEND_TOOL
            and arguments is not None
            and arguments.get("text") == standing[0]
            and (approvers is None or standing[1].approver in approvers)
        ):
            self._send_approval = None
            return standing[1]
        return await super().ask_approval(
            kind=kind,
            title=title,
            reason=reason,
            settings=settings,
            approvers=approvers,
            tool=tool,
            call_id=call_id,
            arguments=arguments,
            draft=draft,
        )
