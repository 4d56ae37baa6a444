"""``taskcraft demo`` as a user runs it: it says what it stops and when, and how to read its
task afterwards; on a terminal the Web UI stays up until Enter.

Each demo runs on ports of its own with its own data folder, approving its gate itself.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from infra.devserver import port_open, stop_process
from tests.e2e.conftest import PROJECT_ROOT, wait_until
from tests.e2e.test_dev_environment import local_env, start_command, two_free_ports

DEMO_TASK = re.compile(r"^Started task (incident-report-demo-\d+)$", re.M)


@dataclass
class FinishedDemo:
    tmp_path: Path
    port: int
    ui_port: int
    task_id: str
    code: int
    output: str

    @property
    def ui_url(self) -> str:
        return f"http://localhost:{self.ui_port}"


@pytest.fixture(scope="module")
def finished_demo(tmp_path_factory: pytest.TempPathFactory) -> FinishedDemo:
    """One demo run to its end without a terminal, as CI runs it."""
    tmp_path = tmp_path_factory.mktemp("demo")
    port, ui_port = two_free_ports()
    flags = ["--approve-as", "alice", "--port", str(port), "--ui-port", str(ui_port)]
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "starter.py"), "demo", *flags],
        env=local_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=PROJECT_ROOT,
        check=False,
    )
    found = DEMO_TASK.search(result.stdout)
    assert found, result.stdout + result.stderr
    return FinishedDemo(tmp_path, port, ui_port, found[1], result.returncode, result.stdout)


def test_the_demo_says_what_it_stops_and_ends_with_how_to_read_its_task(
    finished_demo: FinishedDemo,
) -> None:
    demo, data = finished_demo, finished_demo.tmp_path / "data"
    assert demo.code == 0, demo.output
    assert f"Task {demo.task_id} ended COMPLETED.\n" in demo.output
    stops = demo.output[demo.output.index(f"Task {demo.task_id} ended COMPLETED.") :]
    assert re.search(
        r"\nNot run from a terminal, so not waiting for Enter: the demo stops now\.\n"
        r"Stopping the worker \(pid \d+\) … stopped\.\n"
        r"Stopping the Temporal dev server \(pid \d+\) … stopped\.\n",
        stops,
    ), stops
    assert demo.output.endswith(
        f"\nThe demo's task is kept in {data / f'temporal-{demo.port}.sqlite'}. To browse and "
        "query it later (after `. .venv/bin/activate`):\n"
        f"  taskcraft dev --port {demo.port} --ui-port {demo.ui_port}    # the same database; "
        f"Web UI on {demo.ui_url}\n"
        f"  export TEMPORAL_ADDRESS=localhost:{demo.port} TASKCRAFT_UI_URL={demo.ui_url}\n"
        f"  taskcraft status {demo.task_id}\n"
        f"  taskcraft history {demo.task_id}\n"
        f"  {demo.ui_url}/namespaces/default/workflows/{demo.task_id}\n"
    )
    assert (data / f"temporal-{demo.port}.sqlite").stat().st_size > 0
    assert not port_open("127.0.0.1", demo.port)
    assert not port_open("127.0.0.1", demo.ui_port)


def test_after_the_demo_taskcraft_dev_on_the_same_database_shows_its_task(
    finished_demo: FinishedDemo,
) -> None:
    demo = finished_demo
    ports = (demo.port, demo.ui_port)
    dev = start_command(demo.tmp_path, "dev", name="dev", env=local_env(demo.tmp_path), ports=ports)
    try:
        dev.wait_ready()
        # The commands the demo printed, in the environment it said to export:
        env = local_env(
            demo.tmp_path, TEMPORAL_ADDRESS=f"localhost:{demo.port}", TASKCRAFT_UI_URL=demo.ui_url
        )

        def taskcraft(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, str(PROJECT_ROOT / "starter.py"), *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                cwd=PROJECT_ROOT,
                check=False,
            )

        listed = taskcraft("list")  # visibility: the server's own record, no worker needed
        assert listed.returncode == 0, listed.stderr
        assert re.search(rf"^{demo.task_id} +COMPLETED +incident-report ", listed.stdout, re.M)
        assert httpx.get(f"{demo.ui_url}/namespaces/default/workflows/{demo.task_id}").is_success

        # Read from the task's history: no worker serves the demo's queue any more.
        status = taskcraft("status", demo.task_id)
        assert status.returncode == 0, status.stderr
        assert "Status    COMPLETED" in status.stdout
        history = taskcraft("history", demo.task_id)
        assert history.returncode == 0, history.stderr
        assert "alice approved gate g1" in history.stdout
    finally:
        dev.process.send_signal(signal.SIGTERM)
        stop_process(dev.process)


def test_on_a_terminal_the_demo_keeps_the_web_ui_up_until_enter(tmp_path: Path) -> None:
    controller, terminal = os.openpty()  # the demo's stdin is a terminal; we type into it
    demo = start_command(
        tmp_path,
        "demo",
        "--approve-as",
        "alice",
        name="demo",
        env=local_env(tmp_path),
        stdin=terminal,
    )
    try:
        wait_until(
            lambda: "Press Enter" in demo.output() or demo.process.poll() is not None,
            timeout=180,
            what="the demo to wait for Enter",
        )
        task_id = DEMO_TASK.search(demo.output())
        assert task_id, demo.output()
        assert demo.process.poll() is None, demo.output()
        ui_url = f"http://localhost:{demo.ui_port}"
        assert f"The Web UI stays up until you press Enter: {ui_url}/namespaces/default/" in (
            demo.output()
        )
        # Meanwhile the task can be browsed and queried: the server and the worker are up.
        assert httpx.get(f"{ui_url}/namespaces/default/workflows/{task_id[1]}").is_success
        env = local_env(tmp_path, TEMPORAL_ADDRESS=f"localhost:{demo.port}")
        status = subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "starter.py"), "status", task_id[1]],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=PROJECT_ROOT,
            check=False,
        )
        assert status.returncode == 0, status.stderr
        assert "Status    COMPLETED" in status.stdout
        assert "Stopping" not in demo.output()

        os.write(controller, b"\n")
        assert demo.process.wait(60) == 0
        after = demo.output().split("Press Enter", 1)[1]
        assert "Stopping the worker (pid " in after
        assert "Stopping the Temporal dev server (pid " in after
        assert demo.ports_free()
    finally:
        stop_process(demo.process)
        os.close(controller)
        os.close(terminal)
