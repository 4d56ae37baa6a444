"""``taskcraft inbox`` and its port: served where it says, or one ``Error:`` line and exit 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from infra.devserver import stop_process
from tests.e2e.conftest import PROJECT_ROOT, wait_until


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "TASKCRAFT_DATA_DIR": str(tmp_path / "data"),
        "TASKCRAFT_INBOX_SECRET": "e2e-" + "s" * 40,
        "PYTHONUNBUFFERED": "1",
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).text == "ok"
    except httpx.TransportError:
        return False


def test_inbox_serves_on_the_port_it_names(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "inbox.log"
    with log.open("wb") as output:
        inbox = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "starter.py"), "inbox", "--port", str(port)],
            env=_env(tmp_path),
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
    try:
        wait_until(lambda: _healthy(f"http://127.0.0.1:{port}/health"), 60, "the inbox")
        assert log.read_text().startswith(f"Approval inbox on http://127.0.0.1:{port} ")
    finally:
        stop_process(inbox)


def test_inbox_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    env = _env(tmp_path)
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "starter.py"), "inbox", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=PROJECT_ROOT,
            check=False,
        )
    assert result.returncode == 2
    assert result.stdout == ""  # nothing claims the inbox runs
    assert result.stderr == (
        f"Error: port {port} is already in use (127.0.0.1:{port}): another inbox or another "
        "program listens there; stop it, or pick another port with --port\n"
    )
