"""What a tool is: a typed argument model, an async function, and the spec the workflow sees.

Tools raise ``ToolError`` for failures the model should hear about (a missing file, a
refused host); any other exception is treated as transient and retried by Temporal under
the tool's retry policy, and reaches the model as an error only once retries run out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel

from taskcraft.agents import ToolRetry, ToolSpec

ArgsT = TypeVar("ArgsT", bound=BaseModel)


class ToolError(Exception):
    """A failure the model should see as the observation; not retried."""


@dataclass
class ToolContext:
    """Per-call facts and shared dependencies handed to every tool function."""

    task_id: str
    step: int
    call_id: str
    # Derived from task, step and call: the key for any side effect outside the process.
    idempotency_key: str
    workspace: Path
    http: httpx.AsyncClient
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)


ToolFunction = Callable[[ArgsT, ToolContext], Awaitable[str | BaseModel]]


@dataclass
class Tool(Generic[ArgsT]):
    name: str
    description: str
    args_model: type[ArgsT]
    run: ToolFunction[ArgsT]
    timeout_s: float = 60.0
    retry: ToolRetry = field(default_factory=ToolRetry)
    requires_approval: bool = False
    task_queue: str | None = None
    max_observation_chars: int = 16_000

    @property
    def spec(self) -> ToolSpec:
        return ToolSpec(
            name=self.name,
            description=self.description,
            parameters=json_schema(self.args_model),
            timeout_s=self.timeout_s,
            retry=self.retry,
            requires_approval=self.requires_approval,
            task_queue=self.task_queue,
            max_observation_chars=self.max_observation_chars,
        )

    async def invoke(self, arguments: dict[str, Any], context: ToolContext) -> str:
        """Validate, run, and render the result as the text the model sees."""
        args = self.args_model.model_validate(arguments)
        result = await self.run(args, context)
        if isinstance(result, BaseModel):
            return result.model_dump_json(indent=1)
        return result


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The argument schema as providers want it: a plain object schema, no titles."""
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
    schema.setdefault("additionalProperties", False)
    return schema
