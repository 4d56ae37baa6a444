"""The offline model: deterministic, no network, no key. For demos and tests only.

It follows a fixed analyst's playbook over whatever tools the agent has (list, read,
optionally write, then answer), so a demo shows a real multi-step tool loop. An agent may
register a responder of its own (``taskcraft.offline``), which answers first. Every answer
is marked as offline in the task state and in the logs, and starts with
``OFFLINE_PREFIX``; it is used only when an agent names it or when the worker has no
model configured at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from activities.models.base import Completion, ModelAdapter
from taskcraft.agents import ToolSpec
from taskcraft.messages import Message, Role, ToolCall, Usage
from taskcraft.offline import OfflineResponder

OFFLINE_PREFIX = "[offline model] "
_MAX_FILES_TO_READ = 3


def _tokens(text: str) -> int:
    """A stand-in token count (about four characters a token), so budgets behave."""
    return max(1, len(text) // 4)


class OfflineModel:
    """The playbook, with the responders agents registered (``taskcraft.offline``)."""

    def __init__(self, responders: Mapping[str, OfflineResponder] | None = None) -> None:
        self._responders = dict(responders or {})

    def for_agent(self, agent: str) -> ModelAdapter:
        responder = self._responders.get(agent)
        return self if responder is None else _WithResponder(self, responder)

    async def complete(
        self, model: str, messages: list[Message], tools: list[ToolSpec]
    ) -> Completion:
        return _completion(messages, self._next_turn(messages, {tool.name for tool in tools}))

    def _next_turn(self, messages: list[Message], tools: set[str]) -> Message:
        users = [m.content for m in messages if m.role is Role.USER]
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


class _WithResponder:
    """An agent's own responder first; the playbook when it passes (answers None)."""

    def __init__(self, playbook: OfflineModel, responder: OfflineResponder) -> None:
        self._playbook = playbook
        self._responder = responder

    async def complete(
        self, model: str, messages: list[Message], tools: list[ToolSpec]
    ) -> Completion:
        answer = self._responder.answer(messages, tools)
        if answer is None:
            return await self._playbook.complete(model, messages, tools)
        if isinstance(answer, str):
            return _completion(messages, _answer(answer))
        marked = answer.model_copy(update={"content": OFFLINE_PREFIX + answer.content})
        return _completion(messages, marked)


def _completion(messages: list[Message], reply: Message) -> Completion:
    prompt_chars = sum(len(m.content) for m in messages)
    usage = Usage(input_tokens=_tokens("x" * prompt_chars), output_tokens=_tokens(reply.content))
    return Completion(message=reply, usage=usage)


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
