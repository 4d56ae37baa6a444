"""The contract every model adapter meets.

An adapter turns the neutral conversation into one provider request and the answer back
into a neutral ``Message``. It does not retry: Temporal owns retries. It raises
``temporalio.exceptions.ApplicationError`` with a ``taskcraft.errors.ErrorType`` as its
type, ``non_retryable`` set for failures that retrying cannot fix, and
``next_retry_delay`` set from a provider's ``Retry-After``.

It reports how the answer ended (``StopReason``) and does not judge it: an answer cut off
at the output limit or stopped by a content filter is returned as it came, and the
workflow's step decides what to do with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from taskcraft.agents import ToolSpec
from taskcraft.calls import StopReason
from taskcraft.messages import Message, Usage


@dataclass(frozen=True)
class Completion:
    message: Message
    usage: Usage
    stop_reason: StopReason = StopReason.END
    # The provider's words when the answer did not simply end: 'finish_reason "length"'.
    stop_detail: str = ""


def stop_reason(
    field: str, value: object, reasons: dict[str, StopReason]
) -> tuple[StopReason, str]:
    """The neutral stop reason for a provider's ``field`` value, and its words when not END.

    Values a provider adds later, or a local server's own, count as a normal end.
    """
    stop = reasons.get(value) if isinstance(value, str) else None
    if stop is None or stop is StopReason.END:
        return StopReason.END, ""
    return stop, f'{field} "{value}"'


class ModelAdapter(Protocol):
    async def complete(
        self, model: str, messages: list[Message], tools: list[ToolSpec]
    ) -> Completion: ...
