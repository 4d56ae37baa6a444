"""End-to-end tests drive the real processes: a dev server, ``worker.py``, ``starter.py``.

One dev server (a ``temporal`` process with a SQLite file) for the session; each test
gets its own task queue and data folder, and starts and kills workers as it needs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from infra.devserver import start_dev_server, stop_process
from tests.support.fake_providers import FakeProviders

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("temporal")
    port = _free_port()
    server = start_dev_server(
        folder / "temporal.sqlite", port=port, ui_port=_free_port(), log_file=folder / "server.log"
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop_process(server)


@pytest.fixture(scope="session")
def e2e_providers() -> Iterator[FakeProviders]:
    with FakeProviders() as fake:
        yield fake


@dataclass
class Processes:
    """Runs the project's commands as a user would, against the session's server."""

    env: dict[str, str]
    folder: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def cli(
        self, *args: str, timeout: float = 120, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "starter.py"), *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=PROJECT_ROOT,
            check=False,
        )

    def start_worker(self, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.folder / f"worker-{len(self.workers)}.log", "ab")  # noqa: SIM115
        worker = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "worker.py")],
            env={**self.env, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
        self.workers.append(worker)
        return worker

    def kill(self, worker: subprocess.Popen[bytes]) -> None:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)

    def stop_all(self) -> None:
        for worker in self.workers:
            stop_process(worker)

    def worker_log(self, index: int = 0) -> str:
        return (self.folder / f"worker-{index}.log").read_text()


def wait_until(condition: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def processes(
    temporal_address: str, e2e_providers: FakeProviders, tmp_path: Path
) -> Iterator[Processes]:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    env = {
        # This interpreter's scripts first: `python` in an MCP server's command is the venv's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "TEMPORAL_ADDRESS": temporal_address,
        "TEMPORAL_NAMESPACE": "default",
        "TASKCRAFT_TASK_QUEUE": f"e2e-{uuid.uuid4().hex[:8]}",
        "TASKCRAFT_DATA_DIR": str(tmp_path / "data"),
        "TASKCRAFT_WORKSPACE": str(workspace),
        "OPENAI_BASE_URL": e2e_providers.openai_base_url,
        "OPENAI_API_KEY": "e2e-key",
        "PYTHONUNBUFFERED": "1",
    }
    procs = Processes(env=env, folder=tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()
