"""The offline model: deterministic, no network, no key. For demos and tests only.

It follows a fixed analyst's playbook over whatever tools the agent has (list, read,
optionally write, then answer), so a demo shows a real multi-step tool loop. Asked for the
weekly incident report (see ``taskcraft.catalog.report_request``), it renders the report
from the statistics in the request instead, and applies a reviewer's reasons to revise it
(see ``offline_report``). Every answer it gives is marked as offline in the task state and
in the logs, and starts with ``OFFLINE_PREFIX``; it is used only when an agent names it or
when the worker has no model configured at all.
"""

from __future__ import annotations

import json
import re
from typing import Any

from activities.models.base import Completion
from taskcraft.agents import ToolSpec
from taskcraft.catalog import ReportData, parse_report_request, parse_revision_request
from taskcraft.incidents import render_report_markdown
from taskcraft.messages import Message, Role, ToolCall, Usage

OFFLINE_PREFIX = "[offline model] "
OFFLINE_REPORT_FOOTER = "_Drafted by the offline model: deterministic, no LLM was called._"
_MAX_FILES_TO_READ = 3
# Reviewer reasons the offline report understands (anything else is noted, not applied).
_WANTS_NO_KEYS = re.compile(
    r"ticket (numbers?|keys?|ids?)|issue keys?|internal (ids?|numbers?)", re.I
)
_WANTS_SHORTER = re.compile(r"\b(shorter|too long|brief|concise)\b", re.I)
_SHORT_SECTIONS = ("*Headline*", "*By priority*", "*Notable incidents*")
_KEY_LIST = re.compile(r" \((?:[A-Z][A-Z0-9_]*-\d+(?:, )?)+(?: and \d+ more)?\)")
_BOLD_KEY = re.compile(r"\*[A-Z][A-Z0-9_]*-\d+\* ")


def _tokens(text: str) -> int:
    """A stand-in token count (about four characters a token), so budgets behave."""
    return max(1, len(text) // 4)


class OfflineModel:
    async def complete(
        self, model: str, messages: list[Message], tools: list[ToolSpec]
    ) -> Completion:
        reply = self._next_turn(messages, {tool.name for tool in tools})
        prompt_chars = sum(len(m.content) for m in messages)
        usage = Usage(
            input_tokens=_tokens("x" * prompt_chars), output_tokens=_tokens(reply.content)
        )
        return Completion(message=reply, usage=usage)

    def _next_turn(self, messages: list[Message], tools: set[str]) -> Message:
        users = [m.content for m in messages if m.role is Role.USER]
        data = next((d for d in map(parse_report_request, users) if d is not None), None)
        if data is not None:
            reasons = [r for r in map(parse_revision_request, users) if r is not None]
            return _answer(offline_report(data, reasons))
        goal = users[0] if users else ""
        called = [m for m in messages if m.role is Role.TOOL]
        last_turn = _last_observations(messages)
        if any(m.is_error for m in last_turn):
            problems = "; ".join(f"{m.name}: {m.content}" for m in last_turn if m.is_error)
            if not any(m.name == "write_file" for m in last_turn) or "write_file" not in tools:
                return _answer(f"I could not finish everything. What went wrong: {problems}")
        step = len([m for m in messages if m.role is Role.ASSISTANT]) + 1
        names = {m.name for m in called}
        if "list_files" in tools and "list_files" not in names:
            return _call(step, [("list_files", {"path": ".", "recursive": True})])
        if "read_file" in tools and "read_file" not in names:
            files = _files_from_listing(called)
            if files:
                return _call(step, [("read_file", {"path": f}) for f in files])
        summary = _summarise(goal, called)
        wants_file = any(word in goal.lower() for word in ("write", "save", "report file"))
        if "write_file" in tools and wants_file and "write_file" not in names:
            return _call(step, [("write_file", {"path": "summary.md", "content": summary})])
        if "write_file" in names and last_turn and last_turn[0].is_error:
            return _answer(
                f"{summary}\n\n(The summary file was not written: {last_turn[0].content})"
            )
        return _answer(summary)


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


def _answer(text: str) -> Message:
    return Message(role=Role.ASSISTANT, content=OFFLINE_PREFIX + text)


def _call(step: int, calls: list[tuple[str, dict[str, Any]]]) -> Message:
    return Message(
        role=Role.ASSISTANT,
        content=OFFLINE_PREFIX + "Next I will use " + ", ".join(name for name, _ in calls) + ".",
        tool_calls=[
            ToolCall(
                id=f"offline-{step}-{i}", name=name, arguments=json.dumps(args, sort_keys=True)
            )
            for i, (name, args) in enumerate(calls, start=1)
        ],
    )


def _last_observations(messages: list[Message]) -> list[Message]:
    tail: list[Message] = []
    for message in reversed(messages):
        if message.role is not Role.TOOL:
            break
        tail.append(message)
    return list(reversed(tail))


def _files_from_listing(observations: list[Message]) -> list[str]:
    for message in observations:
        if message.name != "list_files" or message.is_error:
            continue
        try:
            entries = json.loads(message.content).get("entries", [])
        except (json.JSONDecodeError, AttributeError):
            return []
        files = sorted(
            e["path"] for e in entries if isinstance(e, dict) and e.get("type") == "file"
        )
        return files[:_MAX_FILES_TO_READ]
    return []


def _summarise(goal: str, observations: list[Message]) -> str:
    lines = [f"Goal: {goal.strip()}"]
    listed = [m for m in observations if m.name == "list_files" and not m.is_error]
    if listed:
        try:
            count = len(json.loads(listed[0].content).get("entries", []))
            lines.append(f"The workspace holds {count} entries.")
        except (json.JSONDecodeError, AttributeError):
            pass
    for message in observations:
        if message.name != "read_file" or message.is_error:
            continue
        try:
            body = json.loads(message.content)
            text, path = str(body.get("text", "")), str(body.get("path", "?"))
        except (json.JSONDecodeError, AttributeError):
            text, path = message.content, "?"
        first = next((line.strip() for line in text.splitlines() if line.strip()), "(empty)")
        lines.append(
            f"- {path}: {len(text.splitlines())} lines, {len(text.split())} words; "
            f"starts with: {first[:80]}"
        )
    if len(lines) == 1:
        lines.append("No tools were needed; this is the offline model's answer.")
    return "\n".join(lines)
