"""``run_shell``: where it runs, what it sees, and that a timeout kills everything."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from activities.tools.shell import MAX_OUTPUT_BYTES, ShellResult, run_shell_tool
from taskcraft.tools import ToolContext


@pytest.fixture
async def context(tmp_path: Path) -> AsyncIterator[ToolContext]:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    async with httpx.AsyncClient(trust_env=False) as http:
        yield ToolContext(
            task_id="task-1",
            step=1,
            call_id="call-1",
            idempotency_key="task-1/1/call-1",
            workspace=workspace,
            http=http,
            data_dir=tmp_path / "data",
            env={"OPENAI_API_KEY": "sk-from-context"},
        )


async def run(context: ToolContext, command: str, **arguments: object) -> ShellResult:
    text = await run_shell_tool().invoke({"command": command, **arguments}, context)
    return ShellResult.model_validate_json(text)


def is_running(pid: int) -> bool:
    """Alive and not a zombie (a container's PID 1 may never reap orphans)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_runs_in_the_workspace_with_home_there(context: ToolContext) -> None:
    result = await run(context, 'pwd; echo "$HOME"; echo hi > made.txt')
    workspace = str(context.workspace.resolve())
    assert result.stdout.splitlines() == [workspace, workspace]
    assert (context.workspace / "made.txt").read_text() == "hi\n"


async def test_captures_exit_code_stdout_and_stderr(context: ToolContext) -> None:
    result = await run(context, "echo out; echo err >&2; exit 3")
    assert (result.exit_code, result.stdout, result.stderr, result.timed_out) == (
        3,
        "out\n",
        "err\n",
        False,
    )


async def test_worker_secrets_are_not_visible(
    context: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither the worker's environment nor the context's env reaches the command."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-worker-secret")
    result = await run(context, "env")
    assert "OPENAI_API_KEY" not in result.stdout
    assert "sk-" not in result.stdout
    names = {line.split("=", 1)[0] for line in result.stdout.splitlines()}
    assert {"PATH", "HOME", "LANG"} <= names
    assert names <= {"PATH", "HOME", "LANG", "PWD", "SHLVL", "_", "OLDPWD"}


async def test_timeout_kills_the_whole_process_group(context: ToolContext) -> None:
    """A background child is killed too, and the call returns soon after the timeout."""
    started = time.monotonic()
    result = await run(context, "sleep 60 & echo $! > child.pid; echo started; wait", timeout_s=1)
    assert time.monotonic() - started < 10
    assert result.timed_out is True
    assert result.stdout == "started\n"  # output before the kill is kept
    child = int((context.workspace / "child.pid").read_text())
    for _ in range(50):
        if not is_running(child):
            break
        await asyncio.sleep(0.05)
    assert not is_running(child)


async def test_background_jobs_do_not_outlive_the_call(context: ToolContext) -> None:
    """A job detached from the pipes is still killed once the command returns."""
    result = await run(context, "sleep 60 > /dev/null 2>&1 & echo $!")
    assert (result.exit_code, result.timed_out) == (0, False)
    child = int(result.stdout)
    for _ in range(50):
        if not is_running(child):
            break
        await asyncio.sleep(0.05)
    assert not is_running(child)


async def test_an_escaped_child_cannot_hold_the_call_open(context: ToolContext) -> None:
    """A process that left the group (setsid) keeps the pipe open; the call returns anyway."""
    started = time.monotonic()
    result = await run(context, "setsid sleep 60 & echo $! > escapee.pid; wait", timeout_s=1)
    escapee = int((context.workspace / "escapee.pid").read_text())
    os.kill(escapee, signal.SIGKILL)  # ours to clean up: the tool cannot reach it
    assert result.timed_out is True
    assert time.monotonic() - started < 10


async def test_output_is_capped_without_blocking_the_command(context: ToolContext) -> None:
    """Output past the cap is drained and dropped, so the command still exits normally."""
    result = await run(context, "head -c 300000 /dev/zero | tr '\\0' a; echo done >&2")
    assert (result.exit_code, result.timed_out) == (0, False)
    assert len(result.stdout) == MAX_OUTPUT_BYTES
    assert result.stdout_truncated is True
    assert (result.stderr, result.stderr_truncated) == ("done\n", False)


@pytest.mark.parametrize("timeout_s", [0, 301])
async def test_timeout_is_bounded(context: ToolContext, timeout_s: int) -> None:
    with pytest.raises(ValidationError):
        await run(context, "true", timeout_s=timeout_s)


def test_shell_is_governed_by_policy_and_never_retried() -> None:
    """Re-running a command with side effects is not a safe default; approval is the policy's call."""
    tool = run_shell_tool()
    assert tool.requires_approval is False
    assert tool.retry.maximum_attempts == 1
    assert tool.timeout_s > 300
