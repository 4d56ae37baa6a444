"""The provider-neutral conversation format.

Adapters translate these to and from each provider's wire format, so the workflow
never knows which API answered. Tool-call arguments stay the raw JSON text the model
wrote: the workflow parses them itself, so a malformed call becomes an observation for
the model instead of an exception inside an adapter.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Role(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class ToolCall(BaseModel):
    id: str
    name: str
    arguments: str = "{}"


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )


class Message(BaseModel):
    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    # For role=tool: which call this observation answers, and the tool's name.
    tool_call_id: str | None = None
    name: str | None = None
    # True when the observation reports an error (refused, invalid, failed).
    is_error: bool = False

    @classmethod
    def system(cls, content: str) -> Message:
        return cls(role=Role.SYSTEM, content=content)

    @classmethod
    def user(cls, content: str) -> Message:
        return cls(role=Role.USER, content=content)

    @classmethod
    def tool(cls, call: ToolCall, content: str, *, is_error: bool = False) -> Message:
        return cls(
            role=Role.TOOL,
            content=content,
            tool_call_id=call.id,
            name=call.name,
            is_error=is_error,
        )
