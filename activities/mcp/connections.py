"""The worker's connections to its MCP servers: one live session per server, shared.

Lifecycle
    The worker enters one ``McpConnections`` for its whole life (``async with``). Nothing
    is started or dialled until a server is first used (``list_tools``, ``call_tool``
    or ``check``); the callers that arrive while it connects wait for that one connect.
    Calls from any number of activities then share the session: JSON-RPC multiplexes
    them by request id, so a slow call does not hold up the others. A session whose
    transport ended (a stdio server's process exited, closing its stdout), or that lost
    its connection under a call, is retired, and the next call opens a new one. Leaving
    the ``async with`` closes every session and waits for each to finish: a stdio
    server gets its stdin closed, then SIGTERM and SIGKILL to its process group from the
    SDK, each step bounded, so no server process outlives the worker's exit.

Failure semantics
    ``McpUnavailableError(server, reason)``, transient, for Temporal to retry:
        the server cannot be started or reached, or does not finish the handshake:
            by ``connect_timeout_s`` at the latest;
        it dies or the connection drops during a call: as soon as the transport
            notices (stdio: the pipe closes; HTTP: the request fails), never a hang;
        the call gets no answer: ``McpCallTimeoutError`` after the call's timeout;
        the worker is shutting down.
    ``McpMissingVariableError`` (a ``ConfigError``): a ``${VAR}`` the worker's
        environment lacks; raised before any I/O. ``ConfigError``: no such server.
    ``McpCallResult(is_error=True)``, for the model to read: the tool reported a failure
        (MCP ``isError``), or the server answered the call with a JSON-RPC error or with
        a result that breaks the tool's declared output schema.
    No call is ever run twice: a call that may have reached a server that then died
    raises, and Temporal's retry (a new attempt, a new connection) decides what
    follows. The one resend is after an HTTP 404 to our session id, which MCP defines as
    "the server does not know this session: start a new one" (nothing ran). Hence also
    one race: a server that dies between calls but whose death the transport has not yet
    noticed fails the next call, even though it never saw it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import structlog
from mcp import MCPError
from mcp_types import REQUEST_TIMEOUT

from activities.mcp.failures import is_connection_closed
from activities.mcp.results import call_result, tool_info
from activities.mcp.session import LiveSession
from activities.mcp.transport import resolve
from taskcraft.errors import ConfigError, McpCallTimeoutError, McpUnavailableError
from taskcraft.mcp import McpCallResult, McpServerConfig, McpToolInfo

log = structlog.stdlib.get_logger("taskcraft.mcp")

# Beyond a call's own timeout (enforced by the SDK per request) and the connect timeout,
# a last guard on the whole call: not even a transport stuck before writing can hang it.
CALL_GUARD_GRACE_S = 5.0
# How long a failed call waits for the connection's own account of what broke.
LOST_REASON_WAIT_S = 0.5
# Leaving: closing sessions are given this long before their owners are cancelled.
CLOSE_TIMEOUT_S = 15.0
MAX_TOOL_PAGES = 100


class McpConnections:
    """Async context manager owned by the worker process; see the module docstring."""

    def __init__(self, servers: Iterable[McpServerConfig], *, env: Mapping[str, str]) -> None:
        self._configs: dict[str, McpServerConfig] = {}
        for config in servers:
            if config.name in self._configs:
                raise ConfigError(f"two MCP servers are named {config.name!r}")
            self._configs[config.name] = config
        self._env = dict(env)
        self._current: dict[str, LiveSession] = {}
        self._open: set[LiveSession] = set()  # sessions started and maybe not yet ended
        self._closed = False

    @property
    def servers(self) -> tuple[str, ...]:
        return tuple(self._configs)

    def config(self, server: str) -> McpServerConfig:
        try:
            return self._configs[server]
        except KeyError:
            known = ", ".join(self._configs) or "none"
            raise ConfigError(
                f"no MCP server named {server!r} is configured (configured: {known})"
            ) from None

    def is_connected(self, server: str) -> bool:
        """True while a live session to ``server`` is open and usable."""
        session = self._current.get(server)
        return session is not None and session.connected

    async def __aenter__(self) -> McpConnections:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        sessions = [session for session in self._open if not session.ended]
        for session in sessions:
            session.stop()
        ended = [asyncio.ensure_future(session.wait_ended()) for session in sessions]
        if not ended:
            return
        _, pending = await asyncio.wait(ended, timeout=CLOSE_TIMEOUT_S)
        if pending:
            for session in sessions:
                session.force_stop()
            _, pending = await asyncio.wait(pending, timeout=CLOSE_TIMEOUT_S)
        for waiter in pending:
            waiter.cancel()
        if pending:
            log.warning("mcp.close_incomplete", sessions=len(pending))

    async def list_tools(self, server: str) -> list[McpToolInfo]:
        """Every tool the server lists now (all pages), under the server's ``timeout_s``."""
        session = self._session(server)
        try:
            return await self._list_once(session)
        except _SessionExpired:
            session.retire()
        session = self._session(server)
        try:
            return await self._list_once(session)
        except _SessionExpired:
            raise await self._lost(session, "listing its tools") from None

    async def call_tool(
        self,
        server: str,
        tool: str,
        arguments: dict[str, Any],
        *,
        timeout_s: float | None = None,
    ) -> McpCallResult:
        """Call ``tool`` on ``server``; ``timeout_s`` defaults to the server's."""
        timeout = timeout_s if timeout_s is not None else self.config(server).timeout_s
        session = self._session(server)
        try:
            return await self._call_once(session, tool, arguments, timeout)
        except _SessionExpired:
            # The server answered 404 to our session: it never ran the call, and MCP says
            # to start a new session. Once: a server that forgets every session is broken.
            session.retire()
        session = self._session(server)
        try:
            return await self._call_once(session, tool, arguments, timeout)
        except _SessionExpired:
            raise await self._lost(session, f"a call to {tool!r}") from None

    async def check(self, server: str) -> str | None:
        """A one-line problem with ``server``, or None: for the worker's start.

        Connects and lists the tools, so the connection stays open, warm for the first
        call.
        """
        try:
            await self.list_tools(server)
        except (McpUnavailableError, ConfigError) as exc:
            return str(exc)
        return None

    async def _list_once(self, session: LiveSession) -> list[McpToolInfo]:
        config = self.config(session.name)
        during = "listing its tools"
        tools: list[McpToolInfo] = []
        try:
            async with (
                asyncio.timeout(config.connect_timeout_s + config.timeout_s),
                session.in_use() as client,
            ):
                cursor: str | None = None
                for _ in range(MAX_TOOL_PAGES):
                    page = await client.list_tools(cursor=cursor)
                    tools += [tool_info(tool) for tool in page.tools]
                    cursor = page.next_cursor
                    if cursor is None:
                        break
        except McpUnavailableError:
            raise
        except TimeoutError:
            bound = config.connect_timeout_s + config.timeout_s
            raise McpCallTimeoutError(session.name, _no_answer(during, bound)) from None
        except MCPError as exc:
            await self._raise_unavailable(session, exc, during, config.timeout_s)
            raise McpUnavailableError(
                session.name, f"the server refused {during}: {exc.message}"
            ) from None
        except Exception as exc:
            raise self._unexpected(session, exc, during) from exc
        return tools

    async def _call_once(
        self, session: LiveSession, tool: str, arguments: dict[str, Any], call_timeout_s: float
    ) -> McpCallResult:
        during = f"a call to {tool!r}"
        # The SDK bounds the request itself; this guards the rest (connecting included).
        guard = self.config(session.name).connect_timeout_s + call_timeout_s + CALL_GUARD_GRACE_S
        try:
            async with asyncio.timeout(guard), session.in_use() as client:
                result = await client.call_tool(
                    tool, arguments, read_timeout_seconds=call_timeout_s
                )
        except McpUnavailableError:
            raise
        except TimeoutError:
            raise McpCallTimeoutError(session.name, _no_answer(during, call_timeout_s)) from None
        except MCPError as exc:
            await self._raise_unavailable(session, exc, during, call_timeout_s)
            # A live server refusing this call (bad arguments, unknown tool): the model
            # can read that and do better; retrying would get the same answer.
            return McpCallResult(text=f"MCP error {exc.code}: {exc.message}", is_error=True)
        except RuntimeError as exc:
            if not session.usable:  # closed under the call
                raise await self._lost(session, during) from None
            # The SDK refusing what the server returned (e.g. against its output schema).
            return McpCallResult(text=f"the server's answer was not usable: {exc}", is_error=True)
        except Exception as exc:
            raise self._unexpected(session, exc, during) from exc
        return call_result(result)

    async def _raise_unavailable(
        self, session: LiveSession, exc: MCPError, during: str, call_timeout_s: float
    ) -> None:
        """Raise for the JSON-RPC errors that mean the server is gone or too slow."""
        if exc.code == REQUEST_TIMEOUT:
            raise McpCallTimeoutError(session.name, _no_answer(during, call_timeout_s))
        if is_connection_closed(exc):
            raise await self._lost(session, during)
        if session.expired:
            raise _SessionExpired

    def _session(self, server: str) -> LiveSession:
        """The server's usable session, starting one if there is none (no await: no race)."""
        config = self.config(server)
        if self._closed:
            raise McpUnavailableError(server, "the worker's MCP connections are closed")
        current = self._current.get(server)
        if current is not None and current.usable:
            return current
        session = LiveSession(
            resolve(config, self._env), connect_timeout_s=config.connect_timeout_s
        )
        session.start()
        self._current[server] = session
        self._open = {s for s in self._open if not s.ended} | {session}
        return session

    async def _lost(self, session: LiveSession, during: str) -> McpUnavailableError:
        session.retire()
        fallback = f"the connection was lost during {during}"
        reason = await session.lost_reason(fallback, wait_s=LOST_REASON_WAIT_S)
        return McpUnavailableError(session.name, reason)

    def _unexpected(self, session: LiveSession, exc: Exception, during: str) -> McpUnavailableError:
        session.retire()
        log.warning("mcp.unexpected_error", server=session.name, during=during, exc_info=exc)
        detail = session.server.redact(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
        return McpUnavailableError(
            session.name,
            f"{type(exc).__name__} during {during}" + (f": {detail}" if detail else ""),
        )


def _no_answer(during: str, seconds: float) -> str:
    return f"{during} got no answer within {seconds:g}s"


class _SessionExpired(Exception):
    """The server no longer knows our MCP session (HTTP 404); it ran nothing."""
