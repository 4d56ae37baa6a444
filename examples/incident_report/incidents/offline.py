"""How the offline model drafts the report, so the demo runs without any model or key.

It renders the report from the statistics in the request (``prompts.report_request``)
and applies each reviewer's reason it understands when asked to revise. Registered for
the ``incident-report`` agent with ``taskcraft.offline``; any other conversation falls
back to the offline model's generic playbook.
"""

from __future__ import annotations

import re

from incidents.data import render_report_markdown
from incidents.prompts import ReportData, parse_report_request, parse_revision_request
from taskcraft.agents import ToolSpec
from taskcraft.messages import Message, Role
from taskcraft.offline import offline_responder

OFFLINE_REPORT_FOOTER = "_Drafted by the offline model: deterministic, no LLM was called._"
# Reviewer reasons the offline report understands (anything else is noted, not applied).
_WANTS_NO_KEYS = re.compile(
    r"ticket (numbers?|keys?|ids?)|issue keys?|internal (ids?|numbers?)", re.I
)
_WANTS_SHORTER = re.compile(r"\b(shorter|too long|brief|concise)\b", re.I)
_SHORT_SECTIONS = ("*Headline*", "*By priority*", "*Notable incidents*")
_KEY_LIST = re.compile(r" \((?:[A-Z][A-Z0-9_]*-\d+(?:, )?)+(?: and \d+ more)?\)")
_BOLD_KEY = re.compile(r"\*[A-Z][A-Z0-9_]*-\d+\* ")


@offline_responder("incident-report")
def draft_report(messages: list[Message], tools: list[ToolSpec]) -> str | None:
    """The report for the request in the conversation, revised as reviewers asked."""
    users = [m.content for m in messages if m.role is Role.USER]
    data = next((d for d in map(parse_report_request, users) if d is not None), None)
    if data is None:
        return None
    reasons = [r for r in map(parse_revision_request, users) if r is not None]
    return offline_report(data, reasons)


def offline_report(data: ReportData, reasons: list[str]) -> str:
    """The report from the statistics, then each reviewer's reason applied in turn.

    Understood: leaving out ticket numbers, and a shorter report (headline, priorities
    and notable incidents only). Every reason is listed at the end, so a revision always
    differs from the draft it replaces.
    """
    text = render_report_markdown(data.stats, data.logs, data.window).rstrip("\n")
    for reason in reasons:
        if _WANTS_NO_KEYS.search(reason):
            text = _BOLD_KEY.sub("", _KEY_LIST.sub("", text))
        if _WANTS_SHORTER.search(reason):
            sections = text.split("\n\n")
            text = "\n\n".join(
                s for i, s in enumerate(sections) if i == 0 or s.startswith(_SHORT_SECTIONS)
            )
    notes = [f"_Revised after review: {reason}_" for reason in reasons]
    return "\n".join([text, "", *notes, OFFLINE_REPORT_FOOTER]) + "\n"
