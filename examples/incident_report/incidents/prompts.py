"""The incident report's model call: what the model is asked, and how a revision is asked.

One definition serves the workflow that writes the request and the offline responder
that answers it (so the demo runs without a model), which is why both read it here.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ValidationError

from incidents.data import IncidentStats, LogSummary, ReportWindow

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
