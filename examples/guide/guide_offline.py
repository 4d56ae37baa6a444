"""How the offline model plays notes-keeper, so the guide runs without a model or a key.

A real model decides for itself; this responder follows the agent's instructions in a
fixed order (search, count, file, answer), which is enough to show every part of the
guide: an MCP tool, a Python tool, a policy gate and an approval.
"""

from __future__ import annotations

import json

from taskcraft.agents import ToolSpec
from taskcraft.messages import Message, Role, ToolCall
from taskcraft.offline import offline_responder


def _topic(messages: list[Message]) -> str:
    system = next((m.content for m in messages if m.role is Role.SYSTEM), "")
    for line in system.splitlines():
        if line.startswith("- topic: "):
            return line.removeprefix("- topic: ").strip()
    return "notes"


def _call(step: str, name: str, arguments: dict[str, str]) -> Message:
    return Message(
        role=Role.ASSISTANT,
        content=f"Next: {name}.",
        tool_calls=[ToolCall(id=f"guide-{step}", name=name, arguments=json.dumps(arguments))],
    )


@offline_responder("notes-keeper")
def keep_notes(messages: list[Message], tools: list[ToolSpec]) -> str | Message | None:
    topic = _topic(messages)
    text = f"Notes on {topic}: written by the offline model; nothing was looked up."
    done = {m.name: m for m in messages if m.role is Role.TOOL}
    if "notes.search" not in done:
        return _call("search", "notes.search", {"query": topic})
    if "word_count" not in done:
        return _call("count", "word_count", {"text": text})
    if "notes.add" not in done:
        return _call("add", "notes.add", {"title": topic.capitalize(), "text": text})
    filed = done["notes.add"]
    if filed.is_error:
        return f"The note on {topic} was not filed: {filed.content}"
    return f"Filed the note {topic.capitalize()!r}."
