"""``run_shell``: run one shell command in the task's workspace.

The command gets a scrubbed environment (PATH, LANG, HOME set to the workspace), never
the worker's, which holds API keys. It runs in its own process group so a timeout or a
cancelled activity kills everything it started, not just the shell, and background jobs
die when the command ends. The tool asks for approval by default and is not retried:
running a command twice is not a safe default.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from asyncio.subprocess import Process
from pathlib import Path

from pydantic import BaseModel, Field

from taskcraft.agents import ToolRetry
from taskcraft.tools import Tool, ToolContext, ToolError

DEFAULT_TIMEOUT_S = 30
MAX_TIMEOUT_S = 300
MAX_OUTPUT_BYTES = 64 * 1024
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
# After a kill, how long to wait for the pipes to close: a process that left the group
# (setsid) can hold them open, and must not hold the activity open with them.
KILL_GRACE_S = 2.0


class RunShellArgs(BaseModel):
    command: str = Field(min_length=1, description="Shell command, run by /bin/sh.")
    timeout_s: int = Field(
        default=DEFAULT_TIMEOUT_S,
        ge=1,
        le=MAX_TIMEOUT_S,
        description="Seconds before the command and its children are killed.",
    )


class ShellResult(BaseModel):
    exit_code: int = Field(description="The exit status; negative: killed by that signal.")
    stdout: str
    stderr: str
    timed_out: bool
    stdout_truncated: bool = False
    stderr_truncated: bool = False


class _Capture:
    """Keeps the first ``MAX_OUTPUT_BYTES`` of a stream and drains the rest.

    Draining matters: a command blocked on a full pipe would never finish.
    """

    def __init__(self) -> None:
        self.data = bytearray()
        self.truncated = False

    async def drain(self, stream: asyncio.StreamReader | None) -> None:
        while stream is not None and (chunk := await stream.read(65_536)):
            room = MAX_OUTPUT_BYTES - len(self.data)
            self.data += chunk[: max(room, 0)]
            self.truncated = self.truncated or len(chunk) > room

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def shell_environment(workspace: Path) -> dict[str, str]:
    """What the command sees: enough to find programs, nothing of the worker's secrets."""
    return {
        "PATH": os.environ.get("PATH", DEFAULT_PATH),
        "HOME": str(workspace),
        "LANG": "C.UTF-8",
    }


def _kill_group(process: Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)


async def _run(args: RunShellArgs, context: ToolContext) -> ShellResult:
    workspace = context.workspace.resolve(strict=False)
    if not workspace.is_dir():
        raise ToolError("The task's workspace does not exist; there is nowhere to run.")
    process = await asyncio.create_subprocess_shell(
        args.command,
        cwd=workspace,
        env=shell_environment(workspace),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group, so a kill reaches its children
    )
    stdout, stderr = _Capture(), _Capture()
    readers = asyncio.gather(stdout.drain(process.stdout), stderr.drain(process.stderr))
    timed_out = False
    try:
        async with asyncio.timeout(args.timeout_s):
            await readers
            exit_code = await process.wait()
    except TimeoutError:
        timed_out = True
        _kill_group(process)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), KILL_GRACE_S)
        exit_code = -signal.SIGKILL if process.returncode is None else process.returncode
    finally:
        # Also on success and on cancellation: nothing the command started in the
        # background outlives the call and lingers in a workspace other tasks share.
        _kill_group(process)
        readers.cancel()
    return ShellResult(
        exit_code=exit_code,
        stdout=stdout.text(),
        stderr=stderr.text(),
        timed_out=timed_out,
        stdout_truncated=stdout.truncated,
        stderr_truncated=stderr.truncated,
    )


def run_shell_tool() -> Tool[RunShellArgs]:
    return Tool(
        name="run_shell",
        arg_kinds={"command": "shell"},
        writes=True,
        description="Run a shell command in the workspace; returns exit code and output.",
        args_model=RunShellArgs,
        run=_run,
        timeout_s=MAX_TIMEOUT_S + 30,
        retry=ToolRetry(maximum_attempts=1),
        # The policy decides: the shipped default allows read-only commands, holds any
        # other command for approval, and denies destructive ones (parsed, not grepped).
        requires_approval=False,
    )
