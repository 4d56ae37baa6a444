"""Offline responders: how the offline model answers for one agent, so its demo needs no key.

The offline model (``offline:...`` references, or any agent when a worker has no model
configured) follows a generic analyst's playbook: list, read, summarise. An agent whose
work that playbook cannot do (writing a report from statistics, say) registers a
responder in one of its folder's modules::

    from taskcraft.offline import offline_responder

    @offline_responder("incident-report")
    def draft(messages: list[Message], tools: list[ToolSpec]) -> str | Message | None:
        ...  # the answer's text (or a Message with tool calls), or None for the playbook

Whatever it answers is marked as offline, like every offline answer, and never replaces
a configured provider.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from taskcraft.agents import ToolSpec
from taskcraft.messages import Message

Answer = Callable[[list[Message], list[ToolSpec]], str | Message | None]


@dataclass(frozen=True)
class OfflineResponder:
    agent: str
    answer: Answer


def offline_responder(agent: str) -> Callable[[Answer], OfflineResponder]:
    def register(answer: Answer) -> OfflineResponder:
        return OfflineResponder(agent=agent, answer=answer)

    return register
