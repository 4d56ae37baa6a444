"""``taskcraft dev`` as a user runs it: however it is stopped, nothing it started lives on.

Each test runs ``starter.py dev`` on ports of its own (``--port``/``--ui-port``), with its
own data folder, and finds the server and worker it started among its child processes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.devserver import port_open, stop_process
from tests.e2e.conftest import PROJECT_ROOT, wait_until

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="finds child processes through /proc (Linux)"
)


def local_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A user's environment with nothing pointing at the session's server."""
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "TASKCRAFT_DATA_DIR": str(tmp_path / "data"),
        "TASKCRAFT_WORKSPACE": str(workspace),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def two_free_ports() -> tuple[int, int]:
    """A gRPC port and a Web UI port, both free now (held together, so they differ)."""
    with socket.socket() as first, socket.socket() as second:
        first.bind(("127.0.0.1", 0))
        second.bind(("127.0.0.1", 0))
        return int(first.getsockname()[1]), int(second.getsockname()[1])


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def children(pid: int) -> dict[int, str]:
    """The live child processes of ``pid``, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        stat = _stat(int(entry.name)) if entry.name.isdigit() else None
        if stat is None or int(stat[1]) != pid or stat[0] == "Z":
            continue
        try:
            found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"  # an unreaped zombie holds nothing


@dataclass
class Running:
    """A ``taskcraft`` command running in the background, its output in a file."""

    process: subprocess.Popen[bytes]
    log: Path
    port: int
    ui_port: int

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self) -> None:
        wait_until(
            lambda: "Ready." in self.output() or self.process.poll() is not None,
            timeout=120,
            what="`taskcraft dev` to say it is ready",
        )
        assert self.process.poll() is None, self.output()

    def ports_free(self) -> bool:
        return not port_open("127.0.0.1", self.port) and not port_open("127.0.0.1", self.ui_port)


def start_command(
    tmp_path: Path,
    *args: str,
    name: str,
    env: dict[str, str],
    stdin: int = subprocess.DEVNULL,
    ports: tuple[int, int] | None = None,
) -> Running:
    port, ui_port = ports or two_free_ports()
    flags = ["--port", str(port), "--ui-port", str(ui_port)]
    log = tmp_path / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "starter.py"), *args, *flags],
            env=env,
            stdin=stdin,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
    return Running(process, log, port, ui_port)


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[Running]:
    running = start_command(tmp_path, "dev", name="dev", env=local_env(tmp_path))
    try:
        yield running
    finally:
        stop_process(running.process)


@pytest.mark.parametrize(
    "signum",
    [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL],
    ids=["TERM", "Ctrl-C", "HUP", "KILL (the parent dies)"],
)
def test_stopping_dev_any_way_stops_its_server_and_worker_and_frees_both_ports(
    dev: Running, signum: signal.Signals
) -> None:
    dev.wait_ready()
    started = children(dev.process.pid)
    commands = {command.split()[1] for command in started.values()}
    assert commands == {"server", str(PROJECT_ROOT / "worker.py")}, started
    assert port_open("127.0.0.1", dev.port)
    assert port_open("127.0.0.1", dev.ui_port)

    dev.process.send_signal(signum)
    code = dev.process.wait(60)

    wait_until(lambda: not any(map(alive, started)), timeout=60, what="its children to exit")
    wait_until(dev.ports_free, timeout=30, what=f"ports {dev.port} and {dev.ui_port} to be free")
    if signum is signal.SIGKILL:
        assert code == -signal.SIGKILL
        return
    assert code == 128 + signum
    out = dev.output()
    assert f"{signum.name}: stopping what this command started." in out
    server_pid = next(pid for pid, command in started.items() if command.split()[1] == "server")
    worker_pid = next(pid for pid in started if pid != server_pid)
    assert f"Stopping the worker (pid {worker_pid}) … stopped." in out
    assert f"Stopping the Temporal dev server (pid {server_pid}) … stopped." in out
    assert out.index("Stopping the worker") < out.index("Stopping the Temporal dev server")


def test_two_dev_environments_run_side_by_side_each_worker_on_its_own_port(
    tmp_path: Path,
) -> None:
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    environments = [
        start_command(folder, "dev", name="dev", env=local_env(folder))
        for folder in (first_dir, second_dir)
    ]
    try:
        for running, folder in zip(environments, (first_dir, second_dir), strict=True):
            running.wait_ready()
            assert f"(data: {folder / 'data' / f'temporal-{running.port}.sqlite'})" in (
                running.output()
            )
        for running, folder in zip(environments, (first_dir, second_dir), strict=True):
            # What `dev` says to export in the other terminal:
            ui_url = f"http://localhost:{running.ui_port}"
            export = f"  export TEMPORAL_ADDRESS=localhost:{running.port} TASKCRAFT_UI_URL={ui_url}"
            assert export + "\n" in running.output()
            env = local_env(
                folder, TEMPORAL_ADDRESS=f"localhost:{running.port}", TASKCRAFT_UI_URL=ui_url
            )
            task = ["workspace-analyst", "--goal", "Summarise it", "--id", f"side-{running.port}"]
            result = subprocess.run(
                [sys.executable, str(PROJECT_ROOT / "starter.py"), "start", *task, "--wait"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                cwd=PROJECT_ROOT,
                check=False,
            )
            assert result.returncode == 0, result.stderr
            assert f"Task side-{running.port} COMPLETED" in result.stdout
            assert f"{ui_url}/namespaces/default/workflows/side-{running.port}\n" in result.stdout
        for running in environments:
            running.process.send_signal(signal.SIGTERM)
            assert running.process.wait(60) == 128 + signal.SIGTERM
            wait_until(running.ports_free, timeout=30, what="both ports to be free")
    finally:
        for running in environments:
            stop_process(running.process)


def test_dev_follows_a_local_temporal_address_and_its_worker_connects_there(
    tmp_path: Path,
) -> None:
    port, ui_port = two_free_ports()
    address = f"localhost:{port}"
    log = tmp_path / "dev.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "starter.py"), "dev", "--ui-port", str(ui_port)],
            env=local_env(tmp_path, TEMPORAL_ADDRESS=address),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
    dev = Running(process, log, port, ui_port)
    try:
        dev.wait_ready()
        assert f"Starting the Temporal dev server on {address} " in dev.output()
        env = local_env(tmp_path, TEMPORAL_ADDRESS=address)
        task = ["start", "workspace-analyst", "--goal", "Summarise it", "--wait"]
        result = subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "starter.py"), *task],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=PROJECT_ROOT,
            check=False,
        )
        assert result.returncode == 0, result.stderr  # answered by the worker `dev` started
        assert "COMPLETED" in result.stdout
    finally:
        process.send_signal(signal.SIGTERM)
        stop_process(process)
    wait_until(dev.ports_free, timeout=30, what="both ports to be free")
