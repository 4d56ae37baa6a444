"""One live connection to one MCP server, owned by a task of its own.

Why a task of its own: the SDK's ``Client`` is an async context manager built on anyio
task groups, which must be entered and left by one task, and a transport failure
cancels the task that entered it. Activities are short tasks that come and go and must
not be cancelled by a server's failure. So an owner task enters the client, publishes
it, and waits until it is told to close or the transport ends; calls from any task go
through the published client, and JSON-RPC multiplexes them by request id.

The owner enforces the connect deadline on itself (its cancel scope's deadline, lifted
once connected), and waiters give up at the same deadline, so a caller hears of a
server that never answers at ``connect_timeout_s`` while the SDK's bounded teardown of
the half-started process carries on in the background.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from importlib import metadata

import anyio
import structlog
from mcp import Client, Implementation

from activities.mcp.failures import describe
from activities.mcp.stderr import ServerStderr
from activities.mcp.transport import ResolvedServer, watch_end
from taskcraft.errors import McpUnavailableError

log = structlog.stdlib.get_logger("taskcraft.mcp")


def _client_info() -> Implementation:
    try:
        version = metadata.version("taskcraft")
    except metadata.PackageNotFoundError:
        version = "0"
    return Implementation(name="taskcraft", version=version)


class LiveSession:
    """A connection's life: connecting, connected, ended (by itself or by ``stop``)."""

    def __init__(self, server: ResolvedServer, *, connect_timeout_s: float) -> None:
        self.server = server
        self._connect_timeout_s = connect_timeout_s
        self._client: Client | None = None
        self._stderr: ServerStderr | None = None
        self._settled = asyncio.Event()  # connected, or ended without connecting
        self._ended = asyncio.Event()
        self._wake = asyncio.Event()  # leave the client now: stopping, or the transport ended
        self._scope = anyio.CancelScope()
        self._stopping = False
        self._transport_ended = False  # the server side went away, not us
        self._expired = False  # an HTTP server forgot the session: nothing sent here ran
        self._failure: str | None = None
        self._active_calls = 0
        self._retired = False
        self._deadline = 0.0
        # Held so the owner task is not garbage-collected while it runs.
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.server.name

    @property
    def usable(self) -> bool:
        """True while new calls may start here (connecting counts: they will wait)."""
        return not (self._ended.is_set() or self._wake.is_set() or self._retired or self._expired)

    @property
    def expired(self) -> bool:
        return self._expired

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    @property
    def connected(self) -> bool:
        return self._client is not None and self.usable

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._deadline = loop.time() + self._connect_timeout_s
        # A fresh context: the owner outlives the activity that happened to start it, and
        # must not carry that activity's log context or Temporal activity context.
        self._task = loop.create_task(
            self._own(), name=f"mcp:{self.name}", context=contextvars.Context()
        )

    async def ready(self) -> Client:
        """The connected client, or ``McpUnavailableError`` by the connect deadline."""
        remaining = self._deadline - asyncio.get_running_loop().time()
        try:
            # (Once settled, never wait: wait_for with no time left fails even a set event.)
            if not self._settled.is_set():
                await asyncio.wait_for(self._settled.wait(), max(remaining, 0))
        except TimeoutError:
            self._retired = True  # the next call starts afresh, not from this attempt
            self._scope.cancel()
            raise McpUnavailableError(self.name, self._timeout_reason()) from None
        if self._client is None or self._ended.is_set():
            raise McpUnavailableError(self.name, self._failure or "the connection closed")
        return self._client

    @asynccontextmanager
    async def in_use(self) -> AsyncIterator[Client]:
        """The client for one call; a retired session closes when its last call ends."""
        client = await self.ready()
        self._active_calls += 1
        try:
            yield client
        finally:
            self._active_calls -= 1
            if self._retired and not self._active_calls:
                self.stop()

    def retire(self) -> None:
        """No new calls here; close once the calls in flight are done."""
        self._retired = True
        if not self._active_calls:
            self.stop()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._client is None:  # still connecting: abandon the handshake
            self._scope.cancel()

    def force_stop(self) -> None:
        """Cancel whatever the owner is doing; the SDK still shields its process cleanup."""
        self._stopping = True
        self._scope.cancel()

    async def wait_ended(self) -> None:
        await self._ended.wait()

    async def lost_reason(self, fallback: str, *, wait_s: float) -> str:
        """Why the connection broke under a call: the owner's account if it comes soon."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._ended.wait(), wait_s)
        return f"{fallback}: {self._failure}" if self._failure else self._with_stderr(fallback)

    def _on_expired(self) -> None:
        self._expired = True
        self.retire()

    def _on_transport_end(self) -> None:
        if not self._wake.is_set():  # our own closing ends the transport too: not a loss
            self._transport_ended = True
            self._wake.set()

    async def _own(self) -> None:
        started = time.monotonic()
        try:
            with self._scope:
                self._scope.deadline = anyio.current_time() + self._connect_timeout_s
                async with AsyncExitStack() as stack:
                    stderr = None
                    if self.server.stdio is not None:
                        self._stderr = await stack.enter_async_context(ServerStderr(self.name))
                        stderr = self._stderr.file
                    opened = self.server.open(stderr=stderr, on_session_expired=self._on_expired)
                    transport = watch_end(opened, self._on_transport_end)
                    client = Client(transport, cache=None, client_info=_client_info())
                    await stack.enter_async_context(client)
                    self._scope.deadline = math.inf
                    self._client = client
                    self._settled.set()
                    log.info(
                        "mcp.connected",
                        server=self.name,
                        protocol=client.protocol_version,
                        seconds=round(time.monotonic() - started, 3),
                    )
                    await self._wake.wait()
            if self._client is None and not self._stopping:
                self._failure = self._timeout_reason()
            elif self._transport_ended:
                self._failure = self._with_stderr("the server closed the connection")
        except Exception as exc:
            if self._client is None and self._scope.cancel_called and not self._stopping:
                # Our deadline cut the handshake short; what the SDK raised is its echo.
                self._failure = self._timeout_reason()
            else:
                self._failure = self.server.redact(describe(exc, self.server, self._stderr))
            log.debug("mcp.failure_detail", server=self.name, exc_info=True)
        finally:
            self._ended.set()
            self._settled.set()
            self._log_end()

    def _log_end(self) -> None:
        if self._failure is None:
            log.info("mcp.closed", server=self.name)
            return
        event = "mcp.connection_lost" if self._client is not None else "mcp.connect_failed"
        stderr_tail = self._stderr.tail() if self._stderr else []
        log.warning(event, server=self.name, reason=self._failure, stderr_tail=stderr_tail)

    def _timeout_reason(self) -> str:
        return self._with_stderr(
            f"did not complete the MCP handshake within {self._connect_timeout_s:g}s"
        )

    def _with_stderr(self, reason: str) -> str:
        last = self._stderr.last_line() if self._stderr else None
        return self.server.redact(f"{reason} (stderr: {last})" if last else reason)
