"""The agents that ship with Taskcraft, as data. The worker registers these by name.

The incident report also defines here what its model call looks like (``ReportData`` in a
JSON block, revision requests with a reason), because both the workflow that writes the
request and the offline model that answers it read this one definition.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ValidationError

from taskcraft.agents import AgentSpec
from taskcraft.approvals import ApprovalSettings, TimeoutOutcome
from taskcraft.errors import UnknownAgentError
from taskcraft.incidents import IncidentStats, LogSummary, ReportWindow
from taskcraft.inputs import InputSpec, InputType

WORKSPACE_ANALYST = AgentSpec(
    name="workspace-analyst",
    description="Reads the files in its workspace and summarises them; can save the summary.",
    instructions=(
        "You are a careful analyst. Use list_files to see what is in the workspace, read the "
        "files that matter with read_file, and answer the goal with a concise, factual summary "
        "that names the files you used. If the goal asks you to save the summary, write it "
        "with write_file to summary.md. Never invent file contents."
    ),
    # Empty: the worker's configured route (TASKCRAFT_MODEL), or the offline model.
    model_route=[],
    tools=["list_files", "read_file", "write_file"],
    max_steps=10,
)

WEB_RESEARCHER = AgentSpec(
    name="web-researcher",
    description="Fetches pages over HTTP (allowed hosts only) and answers from them.",
    instructions=(
        "Answer the goal from the pages you fetch with http_get. Quote what you rely on and "
        "give the URL. Say so when a page could not be fetched."
    ),
    model_route=[],
    tools=["http_get", "read_file", "list_files"],
    max_steps=12,
)

INCIDENT_WORKFLOW = "IncidentReportWorkflow"
# The worker's comma-separated list of who may approve the report (unset: any operator).
REPORT_APPROVERS_ENV = "TASKCRAFT_REPORT_APPROVERS"

INCIDENT_REPORT = AgentSpec(
    name="incident-report",
    description=(
        "The weekly incident report: Jira tickets and logs for an ISO week, summarised into a "
        "Slack draft that is sent once a manager approves it. Inputs: week=YYYY-Www, project=KEY."
    ),
    instructions=(
        "You write the weekly incident report that an engineering manager posts to Slack. "
        "You are given the week's statistics as JSON: tickets by priority and component, "
        "mean time to resolve, recurring failures, notable incidents and the most frequent "
        "log errors. Write one Slack message in mrkdwn (*bold*, _italic_, bullet lines): a "
        "headline, the counts by priority and by component, MTTR, the recurring failures, "
        "the notable incidents and the log errors that explain them. Use only the numbers "
        "you are given. Answer with the message itself, nothing before or after it. When a "
        "reviewer rejects a draft, answer with the complete revised message."
    ),
    model_route=[],
    tools=["jira_search", "query_logs", "send_slack_message"],
    max_steps=10,  # gathering, the drafts and the send; each revision is one more step
    # A report may wait a weekend for its manager; after three days nothing is sent.
    approval=ApprovalSettings(
        timeout_s=72 * 3600.0, on_timeout=TimeoutOutcome.FAIL, approvers_env=REPORT_APPROVERS_ENV
    ),
    workflow=INCIDENT_WORKFLOW,
    inputs=[
        InputSpec(
            name="week",
            type=InputType.ISO_WEEK,
            description="the ISO week to report on (default: the week before the task starts)",
        ),
        InputSpec(
            name="project",
            pattern=r"[A-Z][A-Z0-9_]{0,19}",
            default="INC",
            description="the Jira project key",
        ),
    ],
)

BUILTIN_AGENTS: tuple[AgentSpec, ...] = (WORKSPACE_ANALYST, WEB_RESEARCHER, INCIDENT_REPORT)


def find_agent(name: str) -> AgentSpec:
    for agent in BUILTIN_AGENTS:
        if agent.name == name:
            return agent
    known = ", ".join(sorted(agent.name for agent in BUILTIN_AGENTS))
    raise UnknownAgentError(f"unknown agent {name!r}; known agents: {known}")


# ----- the incident report's model call ----------------------------------------------------

REPORT_REQUEST_HEADER = "Write the weekly incident report"
REVISION_HEADER = "Revision requested"
_DATA_BLOCK = re.compile(r"```json\n(.*?)\n```", re.S)
_REASON = "\nReason: "


class ReportData(BaseModel):
    """What the model is given: statistics only, never the raw tickets or log events."""

    project: str
    window: ReportWindow
    stats: IncidentStats
    logs: LogSummary


def report_request(data: ReportData) -> str:
    return (
        f"{REPORT_REQUEST_HEADER} for project {data.project}, {data.window.label}, "
        "from this data:\n```json\n" + data.model_dump_json(indent=1) + "\n```"
    )


def parse_report_request(text: str) -> ReportData | None:
    if not text.startswith(REPORT_REQUEST_HEADER):
        return None
    block = _DATA_BLOCK.search(text)
    if block is None:
        return None
    try:
        return ReportData.model_validate_json(block[1])
    except ValidationError:
        return None


def revision_request(approver: str, reason: str) -> str:
    return (
        f"{REVISION_HEADER} by {approver}: the draft was not approved. Answer with the "
        f"complete revised message, changed as the reason asks.{_REASON}{reason.strip()}"
    )


def parse_revision_request(text: str) -> str | None:
    """The reviewer's reason, when ``text`` is a revision request."""
    if not text.startswith(REVISION_HEADER) or _REASON not in text:
        return None
    return text.split(_REASON, 1)[1].strip()
