"""IncidentReportWorkflow: the weekly incident report, sent to Slack once a manager approves.

Built on the running task's public interface (``TaskRun``), not beside it: pinning,
every tool call (policy, audit, gates, the activity's re-check, the step record), the
model (failover, RECOVERING), budgets, pause and cancel behave exactly as for any agent.
Only the plan is fixed, not the model's.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field
from temporalio import workflow

from incidents.data import IncidentStats, LogSummary, ReportWindow
from incidents.legacy import json_field
from incidents.prompts import ReportData, report_request, revision_request
from taskcraft.approvals import DecisionKind, DecisionRecord, GateKind
from taskcraft.errors import TaskFailedError
from taskcraft.messages import Message
from taskcraft.task import TaskInput, TaskResult
from workflows import Step, TaskRun, TaskWorkflow, ToolCallOutcome

REPORT_QUERY = "report"

SEND_TOOL = "send_slack_message"
MAX_TICKETS = 1000  # the most jira_search returns; the statistics cover all of them
DEFAULT_PROJECT = "INC"
_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,19}$")


class SentReport(BaseModel):
    sink: str
    channel: str | None = None
    ts: str | None = None
    text_sha256: str
    already_sent: bool = False


class ReportState(BaseModel):
    """What the report task knows beyond any task's record: the ``report`` query's answer."""

    week: str = ""
    project: str = ""
    tickets: int = 0
    log_events: int = 0
    sources: dict[str, str] = Field(default_factory=dict)
    draft: str | None = None
    revisions: int = 0
    sent: SentReport | None = None


@workflow.defn(name="IncidentReportWorkflow")
class IncidentReportWorkflow(TaskWorkflow):
    """Tickets and logs for one ISO week → a model-written draft → approval → one Slack post.

    Inputs: ``week=YYYY-Www`` (default: the ISO week before the task started) and
    ``project=KEY`` (default INC). Steps: INITIALIZING (inputs, pin, connector check) →
    step 1 ``jira_search`` and ``query_logs`` → step 2 the model drafts the message →
    AWAITING_APPROVAL on a checkpoint gate holding the draft → ``send_slack_message``
    with the approved text, which that approval also stands for. A rejection's reason
    goes back to the model, whose revised draft is asked about again; an edit
    (``--draft``) is sent as edited.

    Handlers, as for every task (``TaskWorkflow``): query ``state``; signal ``decide``
    and update ``decide_and_confirm`` answer the gate; ``pause``/``resume``/``message``
    and update ``control`` steer it (a message reaches the model at its next draft);
    cancellation ends it CANCELLED.
    """

    @workflow.init
    def __init__(self, inp: TaskInput) -> None:
        super().__init__(inp)
        self.report = ReportState()

    @workflow.query(name=REPORT_QUERY)
    def get_report(self) -> ReportState:
        """The report's own record: week, project, counts, sources, draft, what was sent."""
        return self.report

    @workflow.run
    async def run(self, inp: TaskInput) -> TaskResult:
        return await self.task.guard(lambda: _report(self.task, self.report))


async def _report(task: TaskRun, report: ReportState) -> TaskResult:
    # The task's inputs, not the start's: a scheduled report's {previous_iso_week} is
    # resolved there (for tasks started by hand the two are the same).
    window, project = _report_inputs(task.inputs)
    report.week, report.project = window.label, project
    await task.initialize()
    task.running(f"gathering {project} incidents, {window.label}")
    data = await _gather(task, report, window, project)
    text, verdict = await _draft_until_approved(task, report, data)
    return await _send(task, report, data, text, verdict)


def _report_inputs(inputs: Mapping[str, str]) -> tuple[ReportWindow, str]:
    week = inputs.get("week", "").strip()
    if not week:
        year, number, _ = (workflow.now() - timedelta(days=7)).isocalendar()
        week = f"{year}-W{number:02d}"
    project = inputs.get("project", DEFAULT_PROJECT).strip().upper()
    if not _PROJECT_KEY.match(project):
        raise TaskFailedError(f"input project={project!r} is not a Jira project key like INC")
    try:
        window = ReportWindow.from_iso_week(week)
    except ValueError as error:
        raise TaskFailedError(f"input week: {error}") from error
    return window, project


async def _tool(step: Step, name: str, arguments: dict[str, Any], **kwargs: Any) -> ToolCallOutcome:
    """One governed tool call; anything but success ends the task with the reason."""
    outcome = await step.call_tool(name, arguments, **kwargs)
    if not outcome.ok:
        raise TaskFailedError(f"{name} did not succeed: {outcome.message.content}")
    return outcome


def _data(outcome: ToolCallOutcome, key: str) -> Any:
    """A field of the tool's structured result.

    Tasks started before the tools returned data have only the text in their history;
    on replay those read it from the text, as the code they started on did (``legacy``).
    """
    data = outcome.result.data if outcome.result is not None else None
    return data[key] if data is not None else json_field(outcome.message.content, key)


async def _gather(
    task: TaskRun, report: ReportState, window: ReportWindow, project: str
) -> ReportData:
    await task.honour_pause()
    step = task.begin_step(planned=f"Collect the {project} tickets and logs, {window.label}.")
    tickets, logs = await asyncio.gather(
        _tool(step, "jira_search", {"jql": window.jira_jql(project), "max_results": MAX_TICKETS}),
        _tool(
            step,
            "query_logs",
            {"start": window.start.isoformat(), "end": window.end.isoformat()},
        ),
    )
    step.finish()
    stats = IncidentStats.model_validate(_data(tickets, "stats"))
    summary = LogSummary.model_validate(_data(logs, "summary"))
    report.tickets, report.log_events = stats.total, summary.total
    report.sources = {"tickets": _data(tickets, "source"), "logs": _data(logs, "source")}
    return ReportData(project=project, window=window, stats=stats, logs=summary)


async def _draft(task: TaskRun) -> str:
    """One model turn on the report conversation: the first draft or a revision."""
    step = await task.next_turn()
    # No tools offered: the model writes; the workflow makes the calls.
    message = await step.model_turn(offer_tools=False)
    step.finish()
    draft = message.content.strip()
    if not draft:
        raise TaskFailedError(f"{step.record.model} answered with an empty draft")
    return draft


async def _draft_until_approved(
    task: TaskRun, report: ReportState, data: ReportData
) -> tuple[str, DecisionRecord]:
    spec = task.pinned_agent.spec
    task.start_conversation(Message.system(spec.instructions), Message.user(report_request(data)))
    while True:
        draft = await _draft(task)
        report.draft = draft
        verdict = await task.gates.ask(
            kind=GateKind.CHECKPOINT,
            title=f"send the {data.project} incident report for {data.window.label} to Slack",
            reason="the weekly report is sent only after a manager approves the draft",
            draft=draft,
        )
        if verdict.kind is DecisionKind.APPROVE:
            return draft, verdict
        if verdict.kind is DecisionKind.EDIT and verdict.draft:
            report.draft = verdict.draft
            return verdict.draft, verdict
        if verdict.kind is None:  # a gate configured to reject on timeout
            raise TaskFailedError(f"{verdict.reason}; the report was not sent")
        report.revisions += 1
        task.start_conversation(Message.user(revision_request(verdict.approver, verdict.reason)))


async def _send(
    task: TaskRun, report: ReportState, data: ReportData, text: str, verdict: DecisionRecord
) -> TaskResult:
    """The approved draft also approves its send: the manager is never asked twice."""
    step = task.begin_step(planned=f"Send the report {verdict.approver} approved.")
    outcome = await _tool(step, SEND_TOOL, {"text": text}, standing_approval=verdict)
    step.finish()
    if outcome.result is None:  # the send's outcome was unknown; an operator marked it sent
        where = f"Slack ({outcome.message.content})"
    else:
        sent = outcome.result.data or json.loads(outcome.message.content)
        report.sent = SentReport.model_validate(
            {k: sent.get(k) for k in ("sink", "channel", "ts", "text_sha256", "already_sent")}
        )
        where = sent["sink"] + (f" {sent['channel']}" if sent.get("channel") else "")
    return task.complete(
        f"Sent the {data.project} incident report for {data.window.label} to {where}, "
        f"approved by {verdict.approver}.\n\n{text}"
    )
