"""Tool names as providers accept them: ``^[A-Za-z0-9_-]{1,64}$``, mapped back on the way in.

Taskcraft names MCP tools ``server.tool`` (the name policies and approvers see), which
OpenAI and Anthropic refuse. The model activity sends each tool under a wire name
(``.`` and other characters become ``_``; a name too long or clashing gets a short hash)
and turns the calls it gets back into Taskcraft's names, so neither the adapters nor the
workflow ever see a wire name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

from taskcraft.agents import ToolSpec
from taskcraft.messages import Message, ToolCall

_WIRE_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
MAX_WIRE_CHARS = 64


def _wire(name: str, taken: set[str]) -> str:
    if _WIRE_SAFE.match(name) and name not in taken:
        return name
    base = _UNSAFE.sub("_", name.replace(".", "__"))
    if len(base) <= MAX_WIRE_CHARS and base not in taken:
        return base
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{base[: MAX_WIRE_CHARS - 9]}_{digest}"


class WireNames:
    """Taskcraft name ↔ wire name for one model call's tools."""

    def __init__(self, tools: Sequence[ToolSpec]) -> None:
        self._to_wire: dict[str, str] = {}
        taken = {tool.name for tool in tools if _WIRE_SAFE.match(tool.name)}
        for tool in tools:
            if _WIRE_SAFE.match(tool.name):
                self._to_wire[tool.name] = tool.name
            else:
                wire = _wire(tool.name, taken)
                taken.add(wire)
                self._to_wire[tool.name] = wire
        self._from_wire = {wire: name for name, wire in self._to_wire.items()}
        self.needed = any(name != wire for name, wire in self._to_wire.items())

    def wire(self, name: str) -> str:
        return self._to_wire.get(name, name)

    def tools(self, tools: Sequence[ToolSpec]) -> list[ToolSpec]:
        return [t.model_copy(update={"name": self.wire(t.name)}) for t in tools]

    def messages(self, messages: Sequence[Message]) -> list[Message]:
        """The conversation with every tool name as the provider was told it."""
        return [self._rename(message, self.wire) for message in messages]

    def answer(self, message: Message) -> Message:
        """The provider's answer with Taskcraft's tool names."""
        return self._rename(message, lambda wire: self._from_wire.get(wire, wire))

    @staticmethod
    def _rename(message: Message, rename: Callable[[str], str]) -> Message:
        if not message.tool_calls and message.name is None:
            return message
        calls = [
            ToolCall(id=call.id, name=rename(call.name), arguments=call.arguments)
            for call in message.tool_calls
        ]
        name = rename(message.name) if message.name is not None else None
        return message.model_copy(update={"tool_calls": calls, "name": name})
