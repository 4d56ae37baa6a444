"""One line saying why a connection failed, from whatever the SDK and the OS raised.

A failed connect arrives as an exception group from the SDK's task groups, often with
the cause (the process could not start, the host refused) next to its echo (the
session's "Connection closed"); the line names the cause, in terms of the server's
configuration rather than the SDK's internals.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
from mcp import MCPError
from mcp_types import CONNECTION_CLOSED

from activities.mcp.stderr import ServerStderr
from activities.mcp.transport import ResolvedServer

MAX_REASON_CHARS = 300


def describe(exc: BaseException, server: ResolvedServer, stderr: ServerStderr | None) -> str:
    leaves = list(_leaves(exc))
    cause = next((leaf for leaf in leaves if not is_connection_closed(leaf)), leaves[0])
    where = _where(server)
    if isinstance(cause, FileNotFoundError):
        reason = f"cannot start {where}: no such file or directory"
    elif isinstance(cause, PermissionError):
        reason = f"cannot start {where}: permission denied"
    elif isinstance(cause, httpx2.ConnectError):
        reason = f"cannot connect to {where}: {_first_line(cause) or 'refused'}"
    elif isinstance(cause, httpx2.TimeoutException):
        reason = f"timed out talking to {where}"
    elif isinstance(cause, httpx2.HTTPError):
        reason = f"HTTP failure talking to {where}: {_first_line(cause) or type(cause).__name__}"
    elif isinstance(cause, OSError):
        reason = f"cannot start {where}: {cause.strerror or cause}"
    elif is_connection_closed(cause):
        reason = "the server closed the connection"
    elif isinstance(cause, MCPError):
        reason = f"the server refused the MCP handshake: {cause.message}"
    else:
        reason = f"{type(cause).__name__}: {_first_line(cause)}"
    last = stderr.last_line() if stderr else None
    if last:
        reason += f" (stderr: {last})"
    return _first_line(reason)[:MAX_REASON_CHARS]


def is_connection_closed(exc: BaseException) -> bool:
    return isinstance(exc, MCPError) and exc.code == CONNECTION_CLOSED


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


def _where(server: ResolvedServer) -> str:
    if server.stdio is not None:
        return repr(server.stdio.command)
    return str(server.url)


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else ""
