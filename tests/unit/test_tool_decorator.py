"""``@tool``: a typed function becomes a governed tool, and a bad one is refused at import."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from pydantic import BaseModel, ValidationError

from taskcraft.agents import ToolRetry
from taskcraft.errors import ToolDefinitionError
from taskcraft.tools import SideEffects, Tool, ToolContext, ToolResult, tool


class LineCount(BaseModel):
    path: str
    lines: int


@tool(timeout_s=10, arg_kinds={"path": "workspace_path"}, heartbeat_timeout_s=3)
async def count_lines(path: str, ctx: ToolContext, blank: bool = False) -> LineCount:
    """Count the lines of a text file in the workspace.

    Longer explanation the model does not need.

    Args:
        path: the file, relative to the workspace.
        blank: count blank lines too.
    """
    text = (ctx.workspace / path).read_text()
    lines = [line for line in text.splitlines() if blank or line.strip()]
    return LineCount(path=path, lines=len(lines))


@tool
def shout(text: str) -> str:
    """Return the text in capitals."""
    return text.upper()


class Query(BaseModel):
    term: str
    limit: int = 5


@tool(name="search-notes", side_effects="none")
async def search(query: Query, ctx: ToolContext) -> ToolResult:
    """Search the notes."""
    return ToolResult(text=f"found {query.term}", data={"hits": query.limit})


@pytest.fixture
async def context(tmp_path: Path) -> Any:
    async with httpx.AsyncClient() as http:
        yield ToolContext(
            task_id="t",
            step=1,
            call_id="c",
            idempotency_key="t/1/c",
            workspace=tmp_path,
            http=http,
            data_dir=tmp_path,
        )


def test_name_description_and_schema_come_from_the_function() -> None:
    assert isinstance(count_lines, Tool)
    spec = count_lines.spec
    assert spec.name == "count_lines"
    assert spec.description == "Count the lines of a text file in the workspace."
    assert spec.parameters == {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "the file, relative to the workspace."},
            "blank": {"type": "boolean", "default": False, "description": "count blank lines too."},
        },
        "required": ["path"],
        "additionalProperties": False,
    }
    assert (spec.timeout_s, spec.heartbeat_timeout_s) == (10, 3)
    assert spec.arg_kinds == {"path": "workspace_path"}
    assert spec.side_effects == "idempotent"


async def test_a_call_validates_runs_and_renders_json(context: ToolContext) -> None:
    (context.workspace / "a.txt").write_text("one\n\ntwo\n")
    result = await count_lines.execute({"path": "a.txt"}, context)
    assert LineCount.model_validate_json(result.text) == LineCount(path="a.txt", lines=2)
    assert result.data is None
    with pytest.raises(ValidationError):
        await count_lines.execute({"path": "a.txt", "colour": "blue"}, context)
    with pytest.raises(ValidationError):
        await count_lines.execute({}, context)


async def test_sync_functions_run_and_need_no_context(context: ToolContext) -> None:
    assert await shout.invoke({"text": "hi"}, context) == "HI"
    assert "ctx" not in shout.spec.parameters["properties"]


async def test_one_model_argument_is_the_schema_and_data_reaches_code(
    context: ToolContext,
) -> None:
    assert search.name == "search-notes"
    assert search.spec.parameters["required"] == ["term"]
    assert search.spec.side_effects == SideEffects.NONE
    result = await search.execute({"term": "deploy"}, context)
    assert result == ToolResult(text="found deploy", data={"hits": 5})


def test_retry_settings_and_max_attempts() -> None:
    @tool(retry=ToolRetry(initial_interval_s=0.5), max_attempts=7)
    async def ping() -> str:
        """Ping."""
        return "pong"

    assert (ping.retry.initial_interval_s, ping.retry.maximum_attempts) == (0.5, 7)


def _refusal(make: Any) -> str:
    with pytest.raises(ToolDefinitionError) as caught:
        make()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(__file__)
    return message


def test_a_parameter_without_a_type_hint_is_refused() -> None:
    def make() -> Any:
        @tool
        async def bad(path) -> str:  # type: ignore[no-untyped-def]
            """Bad."""
            return ""

    assert "parameter 'path' has no type hint" in _refusal(make)


def test_var_args_no_docstring_bad_names_and_unknown_kinds_are_refused() -> None:
    def var_args() -> Any:
        @tool
        async def bad(*paths: str) -> str:
            """Bad."""
            return ""

    def no_doc() -> Any:
        @tool
        async def bad(path: str) -> str:
            return ""

    def bad_name() -> Any:
        @tool(name="files.read")
        async def bad(path: str) -> str:
            """Bad."""
            return ""

    def unknown_kind() -> Any:
        @tool(arg_kinds={"file": "workspace_path"})
        async def bad(path: str) -> str:
            """Bad."""
            return ""

    def unknown_effects() -> Any:
        @tool(side_effects="sometimes")
        async def bad(path: str) -> str:
            """Bad."""
            return ""

    def unschemable() -> Any:
        @tool
        async def bad(when: type) -> str:
            """Bad."""
            return ""

    assert "must be a plain named parameter" in _refusal(var_args)
    assert "has no description" in _refusal(no_doc)
    assert "must start with a letter" in _refusal(bad_name)
    assert "arg_kinds names no parameter file" in _refusal(unknown_kind)
    assert "side_effects must be one of none, idempotent, at_most_once" in _refusal(unknown_effects)
    assert "cannot be described to a model" in _refusal(unschemable)


def test_literal_and_optional_types_reach_the_schema() -> None:
    @tool
    async def pick(colour: Literal["red", "blue"], note: str | None = None) -> str:
        """Pick a colour."""
        return colour

    properties = pick.spec.parameters["properties"]
    assert properties["colour"] == {"enum": ["red", "blue"], "type": "string"}
    assert pick.spec.parameters["required"] == ["colour"]
