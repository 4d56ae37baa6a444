"""Child processes of the benchmark: one tuned dev server, and workers, each stopped by PID.

The shared bench (``../shared/bench``) is imported read-only for the bare-Temporal side:
its worker process, its workflows, its /proc sampling and its statistics.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

PROJECT = Path(__file__).resolve().parent.parent
SHARED_BENCH = Path(os.environ.get("TASKCRAFT_SHARED_BENCH", PROJECT.parent / "shared" / "bench"))
for _path in (PROJECT, SHARED_BENCH, SHARED_BENCH / "peer"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from bench_lib import _port_open  # noqa: E402

from infra.devserver import dev_server_command  # noqa: E402

# The shared bench's fixed ports: server gRPC, HTTP, server metrics, worker metrics.
PORT, HTTP_PORT, SERVER_METRICS_PORT, WORKER_METRICS_PORT = 17233, 17243, 17253, 17263
ADDRESS = f"127.0.0.1:{PORT}"
TC_QUEUE = "taskcraft-bench"


class ChildProcess:
    """A child in its own session, stopped by SIGTERM to its PID only."""

    def __init__(self, cmd: list[str], log_path: str, env: dict[str, str] | None = None) -> None:
        self.cmd, self.log_path, self.env = cmd, log_path, env
        self.proc: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None
        self._stdout_copier: threading.Thread | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def spawn(self, *, pipe_stdout: bool) -> subprocess.Popen[str]:
        """Start; stderr (and stdout unless piped for READY) goes to the log file."""
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.cmd,
            stdout=subprocess.PIPE if pipe_stdout else self._log,
            stderr=self._log,
            text=True,
            env=self.env,
            start_new_session=True,
        )
        return self.proc

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Block until the child prints READY on stdout."""
        assert self.proc is not None
        assert self.proc.stdout is not None
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{self.cmd[1]} exited early, see {self.log_path}")
            if line.strip() == "READY":
                self._stdout_copier = threading.Thread(
                    target=_copy_lines, args=(self.proc.stdout, self._log), daemon=True
                )
                self._stdout_copier.start()
                return
        raise RuntimeError(f"{self.cmd[1]} not ready in time")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._stdout_copier is not None:
            self._stdout_copier.join(timeout=10)  # ends at the child's end of file
            self._stdout_copier = None
        if self._log is not None:
            self._log.close()
        self.proc = None

    def log_count(self, text: str) -> int:
        """How many times ``text`` appears in the child's log (stdout and stderr)."""
        return Path(self.log_path).read_text(errors="replace").count(text)


def _copy_lines(source: IO[str], log: IO[str] | None) -> None:
    """Keep reading a child's stdout after READY, into its log file, until it exits.

    A pipe that nobody reads fills at 64 KiB and the child's next write to stdout blocks.
    sdk-core logs to stdout (WARN and up by default) from the thread that drives every
    workflow, so an unread pipe stopped the whole worker: see bench/README.md, "parked".
    Written through the log's own descriptor, which the child's stderr shares.
    """
    try:
        for line in source:
            if log is not None:
                os.write(log.fileno(), line.encode())
    except (OSError, ValueError):  # the log was closed under us: the child is gone
        return


class TunedServer(ChildProcess):
    """``taskcraft dev``'s server command (TUNING_ARGS, search attributes) on the bench ports."""

    def __init__(self, db: Path) -> None:
        cmd = dev_server_command(db, port=PORT, headless=True)
        cmd += ["--http-port", str(HTTP_PORT), "--metrics-port", str(SERVER_METRICS_PORT)]
        super().__init__(cmd, "/tmp/tcbench-server.log")
        self.db = db

    def start(self) -> TunedServer:
        for port in (PORT, HTTP_PORT, SERVER_METRICS_PORT, WORKER_METRICS_PORT):
            if _port_open(port):
                raise RuntimeError(f"port {port} is in use: is another benchmark running?")
        self._remove_db()
        self.spawn(pipe_stdout=False)
        deadline = time.time() + 60
        while not _port_open(PORT):
            assert self.proc is not None
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError(f"dev server did not start, see {self.log_path}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        super().stop()
        self._remove_db()

    def _remove_db(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.db}{suffix}").unlink(missing_ok=True)


class TaskcraftWorker(ChildProcess):
    """bench/worker.py: the project's worker with the bench agent and tool."""

    def __init__(
        self,
        fake_url: str,
        data_dir: Path,
        *,
        gated: bool = False,
        can_after: int = 500,
        log_level: str = "info",
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        cmd = [
            sys.executable,
            str(PROJECT / "bench" / "worker.py"),
            "--address",
            ADDRESS,
            "--task-queue",
            TC_QUEUE,
            "--fake-url",
            fake_url,
            "--data-dir",
            str(data_dir),
            "--metrics-port",
            str(WORKER_METRICS_PORT),
            "--can-after",
            str(can_after),
            "--log-level",
            log_level,
        ]
        if gated:
            cmd.append("--gated")
        cmd += extra_args
        # Bytecode caching on, as after any install: without it the sandbox compiles the
        # workflow modules from source for every new task (see bench/README.md).
        child_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        super().__init__(cmd, "/tmp/tcbench-worker.log", {**child_env, **(env or {})})

    def start(self) -> TaskcraftWorker:
        self.spawn(pipe_stdout=True)
        self.wait_ready()
        return self
