"""Tools: typed Python functions an agent may call, each call run as its own activity.

Write a tool as a plain (async or sync) function with type hints and a docstring::

    from taskcraft import ToolContext, tool

    @tool(timeout_s=10, arg_kinds={"path": "workspace_path"})
    async def count_lines(path: str, ctx: ToolContext) -> LineCount:
        '''Count the lines of a text file in the workspace.

        Args:
            path: the file, relative to the workspace.
        '''

The name is the function's, the description its docstring's first paragraph, the
argument schema comes from the type hints (validated with pydantic before the call),
and ``Args:`` lines describe each argument to the model. A parameter annotated
``ToolContext`` receives the call's context (workspace, HTTP client, environment,
idempotency key) and is not shown to the model. A function taking one pydantic model
(``async def f(args: MyArgs, ctx: ToolContext)``) uses that model as its schema.

What a tool returns is what the model reads: a string as is, anything else as JSON.
Return ``ToolResult(text=..., data=...)`` to give workflow code structured data beside
the text (it is stored in history: keep it small). Raise ``ToolError`` for a failure
the model should hear about; any other exception is retried under the tool's retry
settings and reaches the model as an error once they run out.

Governance applies to every tool the same way: the policy sees each call (and what the
tool declares about its arguments: ``arg_kinds``, ``writes``), budgets count it, the
audit records it, and a gate holds it when the policy or ``requires_approval`` asks.
``side_effects`` says how a retry is made safe (see ``SideEffects``). A bad signature is
a ``ToolDefinitionError`` when the module is imported, i.e. at worker start.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, get_type_hints, overload

from pydantic import BaseModel, ConfigDict, Field, PydanticUserError, ValidationError, create_model

from taskcraft.agents import ToolRetry, ToolSpec
from taskcraft.errors import NotDelivered as NotDelivered
from taskcraft.errors import ToolDefinitionError
from taskcraft.errors import ToolError as ToolError

if TYPE_CHECKING:
    import httpx

ArgsT = TypeVar("ArgsT", bound=BaseModel)
_TOOL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_ARGS_SECTION = re.compile(r"^\s*(Args|Arguments|Parameters):\s*$")
_ARG_LINE = re.compile(r"^\s+(\w+)\s*(\([^)]*\))?\s*:\s*(.+)$")


class SideEffects(StrEnum):
    """What a retried call may do twice, and so how Taskcraft makes a retry safe.

    ``none``: reads only; retried freely. ``idempotent``: changes something, but a retry
    with the same idempotency key (``ToolContext.idempotency_key``) cannot do it twice;
    retried freely. ``at_most_once``: a retry could repeat the effect (a webhook post):
    the call is attempted once; if its outcome is unknown (the worker died mid-call, a
    timeout), the task asks an operator at a gate whether to send again instead of
    retrying. A tool may also raise ``NotDelivered`` to say its effect certainly did not
    happen, which is retried.
    """

    NONE = "none"
    IDEMPOTENT = "idempotent"
    AT_MOST_ONCE = "at_most_once"


@dataclass
class ToolContext:
    """Per-call facts and shared dependencies handed to a tool that asks for them."""

    task_id: str
    step: int
    call_id: str
    # Derived from task, step and call: the key for any side effect outside the process.
    idempotency_key: str
    workspace: Path
    http: httpx.AsyncClient
    data_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    attempt: int = 1
    heartbeat: Callable[..., None] = field(default=lambda *details: None)
    # Hosts the deciding policy rule names exactly: a tool may reach them even when they
    # resolve to private addresses (see the http tool).
    allowed_hosts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ToolResult:
    """What a call produced: ``text`` for the model, ``data`` for workflow code."""

    text: str
    data: dict[str, Any] | None = None


ToolFunction = Callable[[ArgsT, ToolContext], Awaitable[Any]]
EnvCheck = Callable[[Mapping[str, str]], list[str]]


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
    # How soon a dead worker is noticed mid-call; None: the runtime's default.
    heartbeat_timeout_s: float | None = None
    side_effects: SideEffects = SideEffects.IDEMPOTENT
    # What the policy should know: argument name → kind ("workspace_path", "url", "shell",
    # "sql"), and whether the tool changes anything.
    arg_kinds: dict[str, str] = field(default_factory=dict)
    writes: bool = False
    # Configuration problems (one sentence each, naming the variable) from the worker's
    # environment: reported at worker start, and they fail a task at pin time.
    check: EnvCheck | None = None
    # Resolves side effects from the worker's configuration (a sink that can de-duplicate
    # or not), when they depend on it.
    side_effects_for: Callable[[Mapping[str, str]], SideEffects] | None = None

    def spec_for(self, env: Mapping[str, str]) -> ToolSpec:
        """What the workflow needs to know, for a worker with this environment."""
        effects = self.side_effects_for(env) if self.side_effects_for else self.side_effects
        return ToolSpec(
            name=self.name,
            description=self.description,
            parameters=json_schema(self.args_model),
            timeout_s=self.timeout_s,
            retry=self.retry,
            requires_approval=self.requires_approval,
            task_queue=self.task_queue,
            max_observation_chars=self.max_observation_chars,
            heartbeat_timeout_s=self.heartbeat_timeout_s,
            side_effects=effects.value,
            arg_kinds=dict(self.arg_kinds),
            writes=self.writes,
        )

    @property
    def spec(self) -> ToolSpec:
        return self.spec_for({})

    async def execute(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolResult:
        """Validate, run, and render the result: the text the model sees, data for code."""
        args = self.args_model.model_validate(dict(arguments))
        return as_tool_result(await self.run(args, context))

    async def invoke(self, arguments: Mapping[str, Any], context: ToolContext) -> str:
        """Validate, run, and return the text the model would see."""
        return (await self.execute(arguments, context)).text


def as_tool_result(value: Any) -> ToolResult:
    if isinstance(value, ToolResult):
        return value
    if isinstance(value, str):
        return ToolResult(text=value)
    if isinstance(value, BaseModel):
        return ToolResult(text=value.model_dump_json(indent=1))
    try:
        return ToolResult(text=json.dumps(value, indent=1, default=str))
    except (TypeError, ValueError):
        return ToolResult(text=str(value))


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The argument schema as providers want it: a plain object schema, no titles."""
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
    schema.setdefault("additionalProperties", False)
    return schema


# ----- the decorator -----------------------------------------------------------------


@overload
def tool(function: Callable[..., Any], /) -> Tool[Any]: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    timeout_s: float = 60.0,
    retry: ToolRetry | None = None,
    max_attempts: int | None = None,
    heartbeat_timeout_s: float | None = None,
    task_queue: str | None = None,
    requires_approval: bool = False,
    side_effects: SideEffects | str = SideEffects.IDEMPOTENT,
    arg_kinds: Mapping[str, str] | None = None,
    writes: bool = False,
    check: EnvCheck | None = None,
    max_observation_chars: int = 16_000,
) -> Callable[[Callable[..., Any]], Tool[Any]]: ...


def tool(
    function: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout_s: float = 60.0,
    retry: ToolRetry | None = None,
    max_attempts: int | None = None,
    heartbeat_timeout_s: float | None = None,
    task_queue: str | None = None,
    requires_approval: bool = False,
    side_effects: SideEffects | str = SideEffects.IDEMPOTENT,
    arg_kinds: Mapping[str, str] | None = None,
    writes: bool = False,
    check: EnvCheck | None = None,
    max_observation_chars: int = 16_000,
) -> Any:
    """Make ``function`` a tool (use as ``@tool`` or ``@tool(...)``); see the module doc."""

    def make(fn: Callable[..., Any]) -> Tool[Any]:
        where = _where(fn)
        tool_name = name or fn.__name__
        if not _TOOL_NAME.match(tool_name):
            raise ToolDefinitionError(
                f"{where}: tool name {tool_name!r} must start with a letter and use only "
                "letters, digits, '_' and '-' (at most 64 characters)"
            )
        summary, arg_docs = _parse_docstring(inspect.getdoc(fn) or "")
        text = (description or summary).strip()
        if not text:
            raise ToolDefinitionError(
                f"{where}: tool {tool_name!r} has no description; give the function a "
                "docstring (the model reads it to decide when to call the tool)"
            )
        args_model, call = _adapt(fn, tool_name, arg_docs, where)
        unknown_kinds = set(arg_kinds or {}) - set(args_model.model_fields)
        if unknown_kinds:
            raise ToolDefinitionError(
                f"{where}: tool {tool_name!r}: arg_kinds names no parameter "
                f"{', '.join(sorted(unknown_kinds))}"
            )
        try:
            effects = SideEffects(side_effects)
        except ValueError:
            allowed = ", ".join(e.value for e in SideEffects)
            raise ToolDefinitionError(
                f"{where}: tool {tool_name!r}: side_effects must be one of {allowed}"
            ) from None
        base_retry = retry or ToolRetry()
        if max_attempts is not None:
            base_retry = base_retry.model_copy(update={"maximum_attempts": max_attempts})
        return Tool(
            name=tool_name,
            description=text,
            args_model=args_model,
            run=call,
            timeout_s=timeout_s,
            retry=base_retry,
            requires_approval=requires_approval,
            task_queue=task_queue,
            max_observation_chars=max_observation_chars,
            heartbeat_timeout_s=heartbeat_timeout_s,
            side_effects=effects,
            arg_kinds=dict(arg_kinds or {}),
            writes=writes,
            check=check,
        )

    return make(function) if function is not None else make


def _where(fn: Callable[..., Any]) -> str:
    code = getattr(fn, "__code__", None)
    if code is None:
        return getattr(fn, "__qualname__", repr(fn))
    return f"{code.co_filename}:{code.co_firstlineno}"


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The first paragraph, and ``name: text`` lines of a Google-style ``Args:`` section."""
    summary = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
    described: dict[str, str] = {}
    in_args = False
    for line in doc.splitlines():
        if _ARGS_SECTION.match(line):
            in_args = True
            continue
        if in_args:
            if line.strip() and not line.startswith((" ", "\t")):
                in_args = False
                continue
            found = _ARG_LINE.match(line)
            if found:
                described[found.group(1)] = found.group(3).strip()
    return summary, described


def _adapt(
    fn: Callable[..., Any], tool_name: str, arg_docs: dict[str, str], where: str
) -> tuple[type[BaseModel], ToolFunction[Any]]:
    """The argument model, and a ``(args, ctx)`` coroutine calling ``fn`` the way it wants."""
    try:
        hints = get_type_hints(fn)
    except Exception as error:  # an annotation that does not resolve
        raise ToolDefinitionError(
            f"{where}: tool {tool_name!r}: its type hints do not resolve ({error})"
        ) from None
    signature = inspect.signature(fn)
    context_param: str | None = None
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise ToolDefinitionError(
                f"{where}: tool {tool_name!r}: parameter {param.name!r} must be a plain "
                "named parameter (no *args, **kwargs or positional-only)"
            )
        hint = hints.get(param.name)
        if hint is None:
            raise ToolDefinitionError(
                f"{where}: tool {tool_name!r}: parameter {param.name!r} has no type hint"
            )
        if hint is ToolContext:
            context_param = param.name
            continue
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (hint, Field(default, description=arg_docs.get(param.name)))
    is_async = inspect.iscoroutinefunction(fn)
    model_arg = _single_model_argument(fields)
    if model_arg is not None:
        args_model: type[BaseModel] = fields[model_arg][0]
    else:
        try:
            args_model = create_model(
                f"{tool_name}_arguments",
                __config__=ConfigDict(extra="forbid"),
                **fields,
            )
            json_schema(args_model)
        except (TypeError, ValueError, ValidationError, PydanticUserError) as error:
            raise ToolDefinitionError(
                f"{where}: tool {tool_name!r}: its arguments cannot be described to a model "
                f"({str(error).splitlines()[0]})"
            ) from None

    async def call(args: BaseModel, ctx: ToolContext) -> Any:
        kwargs: dict[str, Any] = (
            {model_arg: args}
            if model_arg is not None
            else {key: getattr(args, key) for key in fields}
        )
        if context_param is not None:
            kwargs[context_param] = ctx
        if is_async:
            return await fn(**kwargs)
        return await asyncio.to_thread(lambda: fn(**kwargs))

    return args_model, call


def _single_model_argument(fields: dict[str, Any]) -> str | None:
    """The parameter's name when the function takes exactly one pydantic model."""
    if len(fields) != 1:
        return None
    (param, (hint, _)) = next(iter(fields.items()))
    return param if inspect.isclass(hint) and issubclass(hint, BaseModel) else None
