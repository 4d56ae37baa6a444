"""The contract every model adapter meets.

An adapter turns the neutral conversation into one provider request and the answer back
into a neutral ``Message``. It does not retry: Temporal owns retries. It raises
``temporalio.exceptions.ApplicationError`` with a ``taskcraft.errors.ErrorType`` as its
type, ``non_retryable`` set for failures that retrying cannot fix, and
``next_retry_delay`` set from a provider's ``Retry-After``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from taskcraft.agents import ToolSpec
from taskcraft.messages import Message, Usage


@dataclass(frozen=True)
class Completion:
    message: Message
    usage: Usage


class ModelAdapter(Protocol):
    async def complete(
        self, model: str, messages: list[Message], tools: list[ToolSpec]
    ) -> Completion: ...
