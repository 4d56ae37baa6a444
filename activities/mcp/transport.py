"""The SDK transport for one configured server, with ``${VAR}`` substituted at the last moment.

Substitution happens here, in the worker, each time a connection opens: the resolved
values live only in a ``ResolvedServer`` (whose repr leaves them out) and the transport's
objects (process arguments, HTTP headers), never in a model that could be logged or
serialised into a payload; ``redact`` turns them back into ``${VAR}`` in error text.

``watch_end`` wraps any transport so its owner learns that the server side is gone (a
stdio server's stdout closed when its process died) without waiting for a call to fail.
It implements the SDK's public ``Transport`` protocol and forwards ``last_context``,
which the SDK reads off a read stream when it has one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TextIO

import anyio
import httpx2
from mcp.client import Transport

# The stream types of the public Transport protocol; the SDK defines them next to it.
from mcp.client._transport import ReadStream, TransportStreams
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.message import SessionMessage

from taskcraft.errors import ConfigError
from taskcraft.mcp import McpServerConfig, substitute

# Plain HTTP settings; the MCP layer bounds each request itself (the call's timeout_s),
# so reads have no HTTP-level limit that could cut a long call short.
HTTP_WRITE_TIMEOUT_S = 30.0
SESSION_ID_HEADER = "mcp-session-id"
# Shorter values (a port, "true") would be replaced wherever they happen to appear.
MIN_REDACTED_CHARS = 6


@dataclass(frozen=True)
class ResolvedServer:
    """A server's configuration with its variables substituted: in memory, never logged."""

    name: str
    stdio: StdioServerParameters | None = field(repr=False)
    url: str | None = field(repr=False)
    headers: dict[str, str] = field(repr=False)
    connect_timeout_s: float
    # Substituted values by variable name, to take back out of any text we show.
    secrets: dict[str, str] = field(repr=False)

    def open(self, *, stderr: TextIO | None, on_session_expired: Callable[[], None]) -> Transport:
        """The transport; ``on_session_expired`` hears an HTTP server forget our session."""
        if self.stdio is not None:
            return stdio_client(self.stdio, errlog=stderr) if stderr else stdio_client(self.stdio)
        return _http(
            self.url or "",
            self.headers,
            connect_timeout_s=self.connect_timeout_s,
            on_session_expired=on_session_expired,
        )

    def redact(self, text: str) -> str:
        """``text`` with every substituted value shown as its ``${VAR}`` reference again."""
        for variable, value in self.secrets.items():
            if len(value) >= MIN_REDACTED_CHARS:
                text = text.replace(value, f"${{{variable}}}")
        return text


def resolve(config: McpServerConfig, env: Mapping[str, str]) -> ResolvedServer:
    """Substitute ``config``'s variables from ``env``; raises before any I/O."""

    def sub(field: str, value: str) -> str:
        return substitute(value, env, server=config.name, field=field)

    stdio: StdioServerParameters | None = None
    url: str | None = None
    headers: dict[str, str] = {}
    if config.command is not None:
        stdio = StdioServerParameters(
            command=sub("command", config.command),
            args=[sub(f"args[{i}]", arg) for i, arg in enumerate(config.args)],
            # Merged by the SDK over a minimal inherited set (PATH, HOME, USER, ...): the
            # worker's other variables, its secrets among them, do not reach the server.
            env={key: sub(f"env.{key}", value) for key, value in config.env.items()} or None,
            cwd=sub("cwd", config.cwd) if config.cwd is not None else None,
        )
    else:
        url = sub("url", config.url or "")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"MCP server {config.name!r}: `url` must start with http:// or https:// "
                "once its variables are substituted"
            )
        headers = {key: sub(f"headers.{key}", value) for key, value in config.headers.items()}
    secrets = {name: env[name] for name in config.referenced_variables()}
    return ResolvedServer(
        name=config.name,
        stdio=stdio,
        url=url,
        headers=headers,
        connect_timeout_s=config.connect_timeout_s,
        secrets=secrets,
    )


@asynccontextmanager
async def _http(
    url: str,
    headers: dict[str, str],
    *,
    connect_timeout_s: float,
    on_session_expired: Callable[[], None],
) -> AsyncIterator[TransportStreams]:
    async def notice_expiry(response: httpx2.Response) -> None:
        # MCP (2025-era HTTP): a 404 to a request carrying our session id means the server
        # no longer knows the session (it restarted, or expired it), and ran nothing. The
        # SDK reports it only as a JSON-RPC error whose wording is the server's; the status
        # is the reliable mark.
        if response.status_code == 404 and SESSION_ID_HEADER in response.request.headers:
            on_session_expired()

    timeout = httpx2.Timeout(HTTP_WRITE_TIMEOUT_S, connect=connect_timeout_s, read=None)
    hooks = {"response": [notice_expiry]}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout, event_hooks=hooks) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams


def watch_end(transport: Transport, on_end: Callable[[], None]) -> Transport:
    """``transport``, calling ``on_end`` once its read stream ends or is closed."""

    @asynccontextmanager
    async def watched() -> AsyncIterator[TransportStreams]:
        async with transport as (read_stream, write_stream):
            yield _WatchedReadStream(read_stream, on_end), write_stream

    return watched()


class _WatchedReadStream:
    """Delegates to the transport's read stream; reports its end."""

    def __init__(self, inner: ReadStream[SessionMessage | Exception], on_end: Callable[[], None]):
        self._inner = inner
        self._on_end = on_end

    @property
    def last_context(self) -> Any:
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage | Exception:
        try:
            return await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._on_end()
            raise

    def __aiter__(self) -> _WatchedReadStream:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        self._on_end()
        await self._inner.aclose()

    async def __aenter__(self) -> _WatchedReadStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
