"""A real MCP server for the connection layer's tests, written with the SDK's server API.

Run it the way a team's server runs:

    python -m tests.support.mcp_server --transport stdio
    python -m tests.support.mcp_server --transport http --port 0
        (prints ``MCP_URL=http://127.0.0.1:PORT/mcp`` once it accepts connections)

Tools:
    add(a, b)          a + b, as structured content
    echo(text)         the text back
    slow(seconds)      sleeps, then says so: a call still in flight when a test acts
    fail(message)      an MCP tool error (``isError``) carrying the message
    count_calls()      calls this process has answered, this one included
    pid()              this process's id, so a test can kill it
    env(name)          an environment variable of this process ("" when unset)
    header(name)       a header of the current HTTP request ("" when none)
    extra()            only when ``TEST_MCP_EXTRA_TOOLS=1``: a server whose tool list changed

With ``TEST_MCP_LEGACY=1`` the HTTP variant refuses the 2026 protocol's requests, so
clients fall back to the 2025 handshake and its HTTP sessions (``Mcp-Session-Id``), as
most deployed servers still speak.

With ``TEST_MCP_CALL_LOG=PATH`` every tool call appends its tool's name as one line to
PATH, so a test counts calls across restarts of the server: exactly what reached it.

In tests: ``stdio_config()`` is a server configuration that starts the stdio variant;
``running_http_server()`` starts the HTTP variant as a subprocess on a free port (or on
a given one, to restart a server where its clients expect it) and stops it afterwards;
``logged_calls(path)`` reads the call log.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.types import ASGIApp, Receive, Scope, Send

from taskcraft.mcp import McpServerConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Generous: a cold interpreter importing the SDK takes a second or two on a slow machine.
STARTUP_DEADLINE_S = 30.0
STOP_DEADLINE_S = 10.0


def stdio_command() -> tuple[str, list[str]]:
    """The command and arguments that start the stdio variant."""
    return sys.executable, ["-m", "tests.support.mcp_server", "--transport", "stdio"]


def stdio_config(name: str = "local", **fields: Any) -> McpServerConfig:
    """A configuration that starts the stdio variant; ``fields`` override or add."""
    command, args = stdio_command()
    defaults: dict[str, Any] = {
        "command": command,
        "args": args,
        "cwd": str(PROJECT_ROOT),
        "connect_timeout_s": STARTUP_DEADLINE_S,
    }
    return McpServerConfig(name=name, **(defaults | fields))


def logged_calls(path: Path) -> list[str]:
    """The tool names a server run with ``TEST_MCP_CALL_LOG=path`` has answered, in order."""
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def build_server() -> MCPServer:
    """The server and its tools (the extra one only when the environment asks for it)."""
    server = MCPServer("taskcraft-test", log_level="WARNING")
    answered = 0
    call_log = os.environ.get("TEST_MCP_CALL_LOG")

    def record(tool: str) -> None:
        nonlocal answered
        answered += 1
        if call_log:
            with open(call_log, "a", encoding="utf-8") as log:
                log.write(tool + "\n")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        record("add")
        return a + b

    @server.tool()
    def echo(text: str) -> str:
        """Return the text unchanged."""
        record("echo")
        return text

    @server.tool()
    async def slow(seconds: float) -> str:
        """Sleep for the given number of seconds, then answer."""
        record("slow")
        await anyio.sleep(seconds)
        return f"slept {seconds}s"

    @server.tool()
    def fail(message: str) -> str:
        """Always fails, with the given message as the tool error."""
        record("fail")
        raise ToolError(message)

    @server.tool()
    def count_calls() -> int:
        """How many tool calls this process has answered, this one included."""
        record("count_calls")
        return answered

    @server.tool()
    def pid() -> int:
        """This server process's id."""
        record("pid")
        return os.getpid()

    @server.tool()
    def env(name: str) -> str:
        """The value of an environment variable in the server process, or ""."""
        record("env")
        return os.environ.get(name, "")

    @server.tool()
    def header(name: str, ctx: Context) -> str:
        """The value of a header of the current HTTP request, or ""."""
        record("header")
        return (ctx.headers or {}).get(name.lower(), "")

    if os.environ.get("TEST_MCP_EXTRA_TOOLS") == "1":

        @server.tool()
        def extra() -> str:
            """Present only when TEST_MCP_EXTRA_TOOLS=1."""
            record("extra")
            return "extra"

    return server


def _serve_http(server: MCPServer, port: int) -> None:
    """Serve streamable HTTP on 127.0.0.1:port, announcing the URL once the socket listens.

    Connections that arrive before uvicorn has started wait in the listen backlog.
    """
    # proto=IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on sockets that
    # say they are TCP, and without it every answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    print(f"MCP_URL=http://127.0.0.1:{sock.getsockname()[1]}/mcp", flush=True)
    app = server.streamable_http_app()
    if os.environ.get("TEST_MCP_LEGACY") == "1":
        app = _legacy_only(app)
    config = uvicorn.Config(app, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


def _legacy_only(app: ASGIApp) -> ASGIApp:
    """Answer requests stamped with a 2026 protocol version the way a 2025 server would."""

    async def legacy(scope: Scope, receive: Receive, send: Send) -> None:
        version = dict(scope.get("headers", [])).get(b"mcp-protocol-version", b"").decode()
        if scope["type"] != "http" or version not in MODERN_PROTOCOL_VERSIONS:
            await app(scope, receive, send)
            return
        error = {"code": -32601, "message": "this server speaks the 2025 protocol only"}
        body = json.dumps({"jsonrpc": "2.0", "id": None, "error": error}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return legacy


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    server = build_server()
    if args.transport == "stdio":
        server.run("stdio")
    else:
        _serve_http(server, args.port)


@dataclass
class RunningHttpServer:
    url: str
    port: int
    process: subprocess.Popen[str]

    def kill(self) -> None:
        """SIGKILL: a crash, not a shutdown; waits until the process is gone."""
        self.process.kill()
        self.process.wait(timeout=STOP_DEADLINE_S)


@contextlib.contextmanager
def running_http_server(
    *, port: int = 0, env: Mapping[str, str] | None = None
) -> Iterator[RunningHttpServer]:
    """Start the HTTP variant as a subprocess, yield once it listens, stop it afterwards."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.mcp_server",
            "--transport",
            "http",
            "--port",
            str(port),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = _read_url(process)
        yield RunningHttpServer(
            url=url, port=int(url.rsplit(":", 1)[1].split("/")[0]), process=process
        )
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_DEADLINE_S)
        if process.stdout is not None:
            process.stdout.close()


def _read_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    # readline blocks until the announcement or EOF (the server died); the deadline is a
    # guard against a server that prints something else forever.
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"test MCP server exited before listening (code {process.wait()})")
        if line.startswith("MCP_URL="):
            return line.removeprefix("MCP_URL=").strip()
    raise RuntimeError(f"test MCP server did not announce its URL in {STARTUP_DEADLINE_S}s")


if __name__ == "__main__":
    main()
