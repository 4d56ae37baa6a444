"""A stdio server's stderr: logged line by line, its last lines kept to explain a failure.

The SDK hands a stdio server the worker's own stderr by default, which mixes the
server's output into ours and loses it for error messages. Here the server writes into
a pipe we read: each line becomes a debug log event tagged with the server's name, and
when the server fails to start or dies, its last line goes into the one-line reason
(a missing module, a refused token) and the last few lines into one warning.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from types import TracebackType
from typing import TextIO

import structlog

log = structlog.stdlib.get_logger("taskcraft.mcp")

KEPT_LINES = 20
MAX_LINE_CHARS = 500
# Time to drain what the server wrote before it exited, once the process is gone; a
# grandchild that inherited the pipe could hold it open forever, hence the bound.
DRAIN_TIMEOUT_S = 1.0


class ServerStderr:
    """Entered before the server starts; ``file`` is what the process gets as stderr."""

    def __init__(self, server: str) -> None:
        self._server = server
        self._lines: deque[str] = deque(maxlen=KEPT_LINES)
        self._write_end: TextIO | None = None
        self._pipe: asyncio.ReadTransport | None = None
        self._pump: asyncio.Task[None] | None = None

    @property
    def file(self) -> TextIO:
        if self._write_end is None:
            raise RuntimeError("ServerStderr is used outside its async with block")
        return self._write_end

    def last_line(self) -> str | None:
        return self._lines[-1] if self._lines else None

    def tail(self) -> list[str]:
        return list(self._lines)

    async def __aenter__(self) -> ServerStderr:
        read_fd, write_fd = os.pipe()
        self._write_end = os.fdopen(write_fd, "w")
        reader = asyncio.StreamReader()
        self._pipe, _ = await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0)
        )
        self._pump = asyncio.create_task(self._read(reader), name=f"mcp-stderr:{self._server}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Our copy of the write end: with it closed, EOF comes once the server's is gone.
        if self._write_end is not None:
            self._write_end.close()
        try:
            if self._pump is not None:
                await asyncio.wait({self._pump}, timeout=DRAIN_TIMEOUT_S)
        finally:  # also when cancelled: a reader left behind would outlive the connection
            if self._pump is not None and not self._pump.done():
                self._pump.cancel()
            if self._pipe is not None:
                self._pipe.close()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await reader.readline()
            except ValueError:  # a line over the reader's limit: keep its start
                raw = await reader.read(MAX_LINE_CHARS)
            if not raw:
                return
            line = raw.decode(errors="replace").rstrip()
            if line:
                self._lines.append(line[:MAX_LINE_CHARS])
                log.debug("mcp.server_stderr", server=self._server, line=line[:MAX_LINE_CHARS])
