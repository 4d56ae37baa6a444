"""McpConnections against real MCP servers: the test server as a subprocess, over stdio and
over streamable HTTP, killed and restarted where a test needs it. No mock of the SDK.

Nothing waits a fixed time: tests wait on conditions (a call reached the server, a
process is gone) with generous deadlines, and assert on elapsed time only to show that
a failure was quick, with a bound far above the expected time and far below a hang.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from activities.mcp import McpConnections
from taskcraft.errors import (
    ConfigError,
    McpCallTimeoutError,
    McpMissingVariableError,
    McpUnavailableError,
)
from taskcraft.mcp import McpServerConfig
from tests.support.mcp_server import (
    RunningHttpServer,
    logged_calls,
    running_http_server,
    stdio_config,
)

DEADLINE_S = 30.0
# A failure that takes longer than this was not "quick" (expected: well under a second).
QUICK_S = 5.0


async def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {DEADLINE_S}s for {what}")
        await asyncio.sleep(0.02)


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def stdio_server_children() -> list[int]:
    """Child processes of this test process that run the stdio test server."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"tests.support.mcp_server\0--transport\0stdio" in cmdline:
            children.append(int(entry.name))
    return children


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def server_pid(connections: McpConnections, server: str) -> int:
    result = await connections.call_tool(server, "pid", {})
    assert result.structured is not None
    return int(result.structured["result"])


@pytest.fixture(scope="module")
def http_server() -> Iterator[RunningHttpServer]:
    with running_http_server() as server:
        yield server


@pytest.fixture
def call_log(tmp_path: Path) -> Path:
    return tmp_path / "calls.log"


# Both transports -----------------------------------------------------------------------


@pytest.fixture(params=["stdio", "http"])
def any_server(request: pytest.FixtureRequest, http_server: RunningHttpServer) -> McpServerConfig:
    if request.param == "stdio":
        return stdio_config("tools")
    return McpServerConfig(name="tools", url=http_server.url, connect_timeout_s=DEADLINE_S)


async def test_lists_tools_with_their_descriptions_and_input_schemas(
    any_server: McpServerConfig,
) -> None:
    async with McpConnections([any_server], env={}) as connections:
        tools = {tool.name: tool for tool in await connections.list_tools("tools")}
    assert {"add", "echo", "slow", "fail", "count_calls"} <= set(tools)
    assert "extra" not in tools
    assert tools["add"].description == "Add two integers."
    assert tools["add"].input_schema["required"] == ["a", "b"]
    assert tools["add"].input_schema["properties"]["a"]["type"] == "integer"


async def test_a_call_gives_text_for_the_model_and_structured_content_for_code(
    any_server: McpServerConfig,
) -> None:
    async with McpConnections([any_server], env={}) as connections:
        added = await connections.call_tool("tools", "add", {"a": 2, "b": 40})
        echoed = await connections.call_tool("tools", "echo", {"text": "hello"})
    assert (added.text, added.structured, added.is_error) == ("42", {"result": 42}, False)
    assert echoed.text == "hello"


async def test_a_connection_idle_past_its_connect_timeout_still_serves_calls(
    any_server: McpServerConfig,
) -> None:
    """The connect deadline bounds the handshake only, not the session's life."""
    # The deadline must be one the handshake meets on this machine today (a loaded CI
    # box starts a Python MCP server slowly), so time one handshake first.
    started = time.monotonic()
    async with McpConnections([any_server], env={}) as connections:
        await connections.call_tool("tools", "echo", {"text": "warm-up"})
    deadline_s = max(2.0, 3 * (time.monotonic() - started))
    short = any_server.model_copy(update={"connect_timeout_s": deadline_s})
    async with McpConnections([short], env={}) as connections:
        await connections.call_tool("tools", "echo", {"text": "first"})
        await asyncio.sleep(deadline_s + 0.5)  # the one thing this test is about: time passing
        later = await connections.call_tool("tools", "echo", {"text": "later"})
    assert later.text == "later"


async def test_a_tool_error_is_a_result_with_is_error_not_an_exception(
    any_server: McpServerConfig,
) -> None:
    async with McpConnections([any_server], env={}) as connections:
        failed = await connections.call_tool("tools", "fail", {"message": "repository archived"})
        unknown = await connections.call_tool("tools", "no_such_tool", {})
        still_fine = await connections.call_tool("tools", "echo", {"text": "after"})
    assert failed.is_error
    assert "repository archived" in failed.text
    assert failed.structured is None
    assert unknown.is_error
    assert "no_such_tool" in unknown.text
    assert still_fine.text == "after"


async def test_concurrent_calls_share_one_connection_and_all_complete(
    any_server: McpServerConfig,
) -> None:
    """Ten one-second calls at once finish in about a second: multiplexed, not queued."""
    async with McpConnections([any_server], env={}) as connections:
        pids = await asyncio.gather(*(server_pid(connections, "tools") for _ in range(5)))
        started = time.monotonic()
        slow = [connections.call_tool("tools", "slow", {"seconds": 1.0}) for _ in range(10)]
        echoes = [connections.call_tool("tools", "echo", {"text": str(i)}) for i in range(10)]
        results = await asyncio.gather(*slow, *echoes)
        elapsed = time.monotonic() - started
    assert len(set(pids)) == 1  # the first five callers waited for one connect
    assert [r.text for r in results[:10]] == ["slept 1.0s"] * 10
    assert [r.text for r in results[10:]] == [str(i) for i in range(10)]
    assert elapsed < 5.0, f"10 x 1s calls took {elapsed:.1f}s: they were not concurrent"


async def test_a_call_past_its_timeout_raises_and_the_connection_stays_usable(
    any_server: McpServerConfig,
) -> None:
    async with McpConnections([any_server], env={}) as connections:
        await connections.call_tool("tools", "echo", {"text": "warm"})
        started = time.monotonic()
        with pytest.raises(McpCallTimeoutError, match=r"'slow' got no answer within 0\.5s"):
            await connections.call_tool("tools", "slow", {"seconds": 30}, timeout_s=0.5)
        assert time.monotonic() - started < QUICK_S
        assert connections.is_connected("tools")
        after = await connections.call_tool("tools", "echo", {"text": "still here"})
    assert after.text == "still here"


# stdio ---------------------------------------------------------------------------------


async def test_nothing_starts_until_first_use_and_nothing_is_left_running_after_exit() -> None:
    config = stdio_config("a")
    async with McpConnections([config, stdio_config("b")], env={}) as connections:
        assert stdio_server_children() == []
        pid_a = await server_pid(connections, "a")
        pid_b = await server_pid(connections, "b")
        assert sorted(stdio_server_children()) == sorted([pid_a, pid_b])
    assert stdio_server_children() == []
    assert process_gone(pid_a)
    assert process_gone(pid_b)
    with pytest.raises(McpUnavailableError, match="connections are closed"):
        await connections.call_tool("a", "echo", {"text": "too late"})


async def test_a_stdio_server_killed_between_calls_is_restarted_by_the_next_call(
    call_log: Path,
) -> None:
    config = stdio_config(env={"TEST_MCP_CALL_LOG": str(call_log)})
    async with McpConnections([config], env={}) as connections:
        first = await server_pid(connections, "local")
        os.kill(first, signal.SIGKILL)
        await eventually(lambda: process_gone(first), "the killed server to be reaped")
        await eventually(lambda: not connections.is_connected("local"), "the loss to be seen")
        second = await server_pid(connections, "local")
        echoed = await connections.call_tool("local", "echo", {"text": "back"})
    assert second != first
    assert echoed.text == "back"
    assert logged_calls(call_log) == ["pid", "pid", "echo"]  # nothing sent twice


async def test_a_stdio_server_killed_during_a_call_raises_unavailable_not_a_hang(
    call_log: Path,
) -> None:
    config = stdio_config(env={"TEST_MCP_CALL_LOG": str(call_log)})
    async with McpConnections([config], env={}) as connections:
        pid = await server_pid(connections, "local")
        call = asyncio.create_task(
            connections.call_tool("local", "slow", {"seconds": 60}, timeout_s=120)
        )
        await eventually(lambda: "slow" in logged_calls(call_log), "the call to reach the server")
        os.kill(pid, signal.SIGKILL)
        started = time.monotonic()
        with pytest.raises(McpUnavailableError) as caught:
            await call
        assert time.monotonic() - started < QUICK_S
        assert "the connection was lost during a call to 'slow'" in str(caught.value)
        assert caught.value.server == "local"
        after = await connections.call_tool("local", "echo", {"text": "reconnected"})
    assert after.text == "reconnected"
    assert logged_calls(call_log) == ["pid", "slow", "echo"]


async def test_a_command_that_does_not_exist_fails_quickly_naming_the_server() -> None:
    config = McpServerConfig(name="broken", command="/nonexistent/mcp-server")
    async with McpConnections([config], env={}) as connections:
        started = time.monotonic()
        with pytest.raises(McpUnavailableError) as caught:
            await connections.call_tool("broken", "anything", {})
        assert time.monotonic() - started < QUICK_S
        problem = await connections.check("broken")
    assert caught.value.server == "broken"
    assert "cannot start '/nonexistent/mcp-server': no such file or directory" in str(caught.value)
    assert problem == str(caught.value)


async def test_a_server_that_exits_at_start_up_is_explained_by_its_last_stderr_line() -> None:
    crash = (
        "import sys; print('ModuleNotFoundError: No module named x', file=sys.stderr); sys.exit(1)"
    )
    config = McpServerConfig(name="crashy", command=sys.executable, args=["-c", crash])
    async with McpConnections([config], env={}) as connections:
        problem = await connections.check("crashy")
    assert problem is not None
    assert problem.startswith("MCP server 'crashy' is unavailable: ")
    assert "(stderr: ModuleNotFoundError: No module named x)" in problem
    assert "\n" not in problem


async def test_a_server_that_never_answers_the_handshake_fails_at_the_connect_timeout() -> None:
    silent = McpServerConfig(name="silent", command="sleep", args=["60"], connect_timeout_s=1)
    async with McpConnections([silent], env={}) as connections:
        started = time.monotonic()
        with pytest.raises(McpUnavailableError, match="handshake within 1s"):
            await connections.list_tools("silent")
        assert time.monotonic() - started < 1 + QUICK_S
    assert stdio_server_children() == []


async def test_variables_reach_the_stdio_server_but_the_workers_environment_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_MCP_WORKER_SECRET", "not-for-servers")
    config = stdio_config(env={"TEST_MCP_EXTRA_TOOLS": "${EXTRA}", "GREETING": "${WORD}"})
    env = {"EXTRA": "1", "WORD": "bonjour"}
    async with McpConnections([config], env=env) as connections:
        tools = [tool.name for tool in await connections.list_tools("local")]
        greeting = await connections.call_tool("local", "env", {"name": "GREETING"})
        secret = await connections.call_tool("local", "env", {"name": "TEST_MCP_WORKER_SECRET"})
        path = await connections.call_tool("local", "env", {"name": "PATH"})
    assert "extra" in tools
    assert greeting.text == "bonjour"
    assert secret.text == ""  # only PATH, HOME and the like are inherited, then `env`
    assert path.text == os.environ["PATH"]


async def test_a_missing_variable_is_a_config_error_before_anything_starts() -> None:
    config = stdio_config("files", env={"FILES_TOKEN": "${FILES_TOKEN}"})
    async with McpConnections([config], env={}) as connections:
        with pytest.raises(McpMissingVariableError) as caught:
            await connections.call_tool("files", "echo", {"text": "x"})
        problem = await connections.check("files")
    assert (caught.value.server, caught.value.variable) == ("files", "FILES_TOKEN")
    assert problem is not None
    assert "FILES_TOKEN" in problem
    assert "'files'" in problem
    assert stdio_server_children() == []


async def test_an_unknown_server_and_a_duplicated_name_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="two MCP servers are named 'x'"):
        McpConnections([stdio_config("x"), stdio_config("x")], env={})
    async with McpConnections([stdio_config("x")], env={}) as connections:
        with pytest.raises(ConfigError, match=r"no MCP server named 'y' .*configured: x"):
            await connections.list_tools("y")


# Streamable HTTP -----------------------------------------------------------------------


async def test_an_http_server_that_is_not_listening_fails_quickly_naming_the_server() -> None:
    url = f"http://127.0.0.1:{free_port()}/mcp?key=${{KEY}}"
    config = McpServerConfig(name="remote", url=url)
    async with McpConnections([config], env={"KEY": "key-0123456789"}) as connections:
        started = time.monotonic()
        with pytest.raises(McpUnavailableError) as caught:
            await connections.call_tool("remote", "echo", {"text": "x"})
        assert time.monotonic() - started < QUICK_S
    message = str(caught.value)
    assert caught.value.server == "remote"
    assert "cannot connect to" in message
    assert "key=${KEY}" in message
    assert "key-0123456789" not in message


async def test_headers_with_variables_reach_the_http_server(http_server: RunningHttpServer) -> None:
    config = McpServerConfig(
        name="remote", url=http_server.url, headers={"Authorization": "Bearer ${TOKEN}"}
    )
    async with McpConnections([config], env={"TOKEN": "t-42"}) as connections:
        seen = await connections.call_tool("remote", "header", {"name": "Authorization"})
    assert seen.text == "Bearer t-42"


async def test_an_http_server_killed_between_calls_and_restarted_serves_the_next_call(
    call_log: Path,
) -> None:
    env = {"TEST_MCP_CALL_LOG": str(call_log)}
    with running_http_server(env=env) as server:
        config = McpServerConfig(name="remote", url=server.url, connect_timeout_s=DEADLINE_S)
        async with McpConnections([config], env={}) as connections:
            first = await server_pid(connections, "remote")
            server.kill()
            with running_http_server(port=server.port, env=env):
                second = await server_pid(connections, "remote")
    assert second != first
    assert logged_calls(call_log) == ["pid", "pid"]


async def test_an_http_server_gone_between_calls_fails_the_call_quickly() -> None:
    with running_http_server() as server:
        config = McpServerConfig(name="remote", url=server.url, connect_timeout_s=DEADLINE_S)
        async with McpConnections([config], env={}) as connections:
            await server_pid(connections, "remote")
            server.kill()
            started = time.monotonic()
            with pytest.raises(McpUnavailableError, match="cannot connect to"):
                await connections.call_tool("remote", "echo", {"text": "anyone?"})
            assert time.monotonic() - started < QUICK_S


async def test_a_2025_http_session_the_restarted_server_forgot_is_renewed_without_resending(
    call_log: Path,
) -> None:
    """MCP: a 404 to our session id means start a new session; the server ran nothing."""
    env = {"TEST_MCP_LEGACY": "1", "TEST_MCP_CALL_LOG": str(call_log)}
    with running_http_server(env=env) as server:
        config = McpServerConfig(name="remote", url=server.url, connect_timeout_s=DEADLINE_S)
        async with McpConnections([config], env={}) as connections:
            before = await connections.call_tool("remote", "count_calls", {})
            server.kill()
            with running_http_server(port=server.port, env=env):
                after = await connections.call_tool("remote", "count_calls", {})
    assert (before.text, after.text) == ("1", "1")
    assert logged_calls(call_log) == ["count_calls", "count_calls"]


async def test_an_http_server_killed_during_a_call_raises_unavailable_not_a_hang(
    call_log: Path,
) -> None:
    with running_http_server(env={"TEST_MCP_CALL_LOG": str(call_log)}) as server:
        config = McpServerConfig(name="remote", url=server.url, connect_timeout_s=DEADLINE_S)
        async with McpConnections([config], env={}) as connections:
            call = asyncio.create_task(
                connections.call_tool("remote", "slow", {"seconds": 60}, timeout_s=120)
            )
            await eventually(lambda: "slow" in logged_calls(call_log), "the call to arrive")
            server.kill()
            started = time.monotonic()
            with pytest.raises(McpUnavailableError, match="lost during a call to 'slow'"):
                await call
            assert time.monotonic() - started < QUICK_S


async def test_a_relisting_shows_tools_the_restarted_server_added() -> None:
    with running_http_server() as server:
        config = McpServerConfig(name="remote", url=server.url, connect_timeout_s=DEADLINE_S)
        async with McpConnections([config], env={}) as connections:
            before = {tool.name for tool in await connections.list_tools("remote")}
            server.kill()
            with running_http_server(port=server.port, env={"TEST_MCP_EXTRA_TOOLS": "1"}):
                after = {tool.name for tool in await connections.list_tools("remote")}
                extra = await connections.call_tool("remote", "extra", {})
    assert after - before == {"extra"}
    assert extra.text == "extra"
