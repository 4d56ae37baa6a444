"""MCP servers as tool sources: what a server is, what its tools are called, what a call gives.

Neutral core: workflow code imports this module, so it holds only data and pure functions.
The connection itself (processes, sockets, the SDK) lives in ``activities.mcp``.

A server is configured once, by name, as either a local process spoken to over stdio
(``command``) or a streamable HTTP endpoint (``url``). Values may reference the worker's
environment as ``${VAR}``; the reference is what is stored (in agent files, payloads and
history), and only the worker substitutes it, at connect time, so secrets stay out of
the event history.

The tool a policy and the model see is ``"<server>.<tool>"``: server names cannot contain
a dot, so the first dot always separates the two, and a built-in tool (no dot) is never
mistaken for an MCP one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from taskcraft.errors import (
    McpMissingVariableError,
)

MCP_TOOL_SEPARATOR = "."
DEFAULT_CALL_TIMEOUT_S = 60.0
DEFAULT_CONNECT_TIMEOUT_S = 10.0

_SERVER_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A reference is ${NAME}; any other "${" is a typo we would rather refuse than pass on.
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ANY_REFERENCE_START = re.compile(r"\$\{")


class McpServerConfig(BaseModel):
    """One MCP server: a command to run (stdio) or a URL to call (streamable HTTP)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    # stdio: the worker starts the process and speaks MCP over its stdin and stdout.
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    # streamable HTTP.
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    # The longest one tool call may take; the tool activity's own timeout should exceed it.
    timeout_s: float = Field(default=DEFAULT_CALL_TIMEOUT_S, gt=0)
    # Starting the process or opening the connection, plus the MCP handshake.
    connect_timeout_s: float = Field(default=DEFAULT_CONNECT_TIMEOUT_S, gt=0)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        if not _SERVER_NAME.fullmatch(name):
            raise ValueError(
                f"MCP server name {name!r} must be 1 to 64 letters, digits, '-' or '_' "
                "(it prefixes the server's tool names, as in 'github.create_issue')"
            )
        return name

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        where = f"MCP server {self.name!r}"
        if (self.command is None) == (self.url is None):
            raise ValueError(
                f"{where} needs exactly one of `command` (a local server spoken to over stdio) "
                "or `url` (a streamable HTTP endpoint)"
            )
        if self.command is not None:
            if not self.command.strip():
                raise ValueError(f"{where} has an empty `command`")
            if self.headers:
                raise ValueError(f"{where}: `headers` apply to a `url` server, not a `command`")
        else:
            stdio_only = [f for f in ("args", "env", "cwd") if getattr(self, f)]
            if stdio_only:
                raise ValueError(
                    f"{where}: {', '.join(f'`{f}`' for f in stdio_only)} apply to a `command` "
                    "server, not a `url`"
                )
            # A url that is one reference ("${GITHUB_MCP_URL}") is checked once resolved.
            if not str(self.url).startswith(("http://", "https://", "${")):
                raise ValueError(f"{where}: `url` must start with http:// or https://")
        bad_env = [key for key in self.env if not _ENV_NAME.fullmatch(key)]
        if bad_env:
            raise ValueError(f"{where}: {bad_env[0]!r} is not an environment variable name")
        for field, value in self._templated():
            reference_error = _bad_reference(value)
            if reference_error:
                raise ValueError(f"{where}: {field}: {reference_error}")
        return self

    @property
    def transport(self) -> Literal["stdio", "http"]:
        return "stdio" if self.command is not None else "http"

    def referenced_variables(self) -> list[str]:
        """The environment variables this configuration needs, in order of appearance."""
        seen: dict[str, None] = {}
        for _, value in self._templated():
            seen.update(dict.fromkeys(_REFERENCE.findall(value)))
        return list(seen)

    def _templated(self) -> list[tuple[str, str]]:
        """Every value that may hold ``${VAR}``, with the field name used in messages."""
        values = [("command", self.command), ("cwd", self.cwd), ("url", self.url)]
        values += [(f"args[{i}]", arg) for i, arg in enumerate(self.args)]
        values += [(f"env.{key}", value) for key, value in self.env.items()]
        values += [(f"headers.{key}", value) for key, value in self.headers.items()]
        return [(field, value) for field, value in values if value is not None]


def substitute(text: str, env: Mapping[str, str], *, server: str, field: str) -> str:
    """``text`` with each ``${VAR}`` replaced from ``env``; a missing variable is an error."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise McpMissingVariableError(server, name, field)
        return env[name]

    return _REFERENCE.sub(value, text)


def _bad_reference(value: str) -> str | None:
    """Why a value's ``${`` is not a well-formed reference, or None."""
    for start in _ANY_REFERENCE_START.finditer(value):
        if not _REFERENCE.match(value, start.start()):
            fragment = value[start.start() : start.start() + 20]
            return f"{fragment!r} is not a ${{VAR}} reference (letters, digits and '_')"
    return None


def mcp_tool_name(server: str, tool: str) -> str:
    """The name a policy and the model see for ``tool`` on ``server``."""
    if not _SERVER_NAME.fullmatch(server):
        raise ValueError(f"{server!r} is not an MCP server name")
    if not tool:
        raise ValueError("an MCP tool name cannot be empty")
    return f"{server}{MCP_TOOL_SEPARATOR}{tool}"


def split_mcp_tool_name(name: str) -> tuple[str, str] | None:
    """``(server, tool)`` for an MCP tool's name, or None for any other tool."""
    server, separator, tool = name.partition(MCP_TOOL_SEPARATOR)
    if not separator or not tool or not _SERVER_NAME.fullmatch(server):
        return None
    return server, tool


class McpToolInfo(BaseModel):
    """A tool as the server lists it: what the model is offered."""

    name: str
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=dict)
    # The server's hints (MCP tool annotations): readOnlyHint, destructiveHint,
    # idempotentHint, openWorldHint. Hints, not guarantees: the policy still decides.
    annotations: dict[str, Any] = Field(default_factory=dict)


class McpCallResult(BaseModel):
    """One call's outcome: text for the model, structured data for code.

    ``is_error`` is the server saying the tool failed (MCP ``isError``), which the model
    should hear about; a server that is gone raises ``McpUnavailableError`` instead.
    """

    text: str
    structured: dict[str, Any] | None = None
    is_error: bool = False
