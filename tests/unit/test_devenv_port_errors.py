"""Which ports ``taskcraft dev`` and ``demo`` use, and the one-line refusals when they cannot."""

from __future__ import annotations

import re
from argparse import Namespace
from pathlib import Path

import pytest

from cli.devenv import local_server
from infra.devserver import LocalServer
from infra.settings import Settings
from taskcraft.errors import ConfigError


def _server(
    tmp_path: Path, port: int | None = None, ui_port: int | None = None, **env: str
) -> LocalServer:
    args = Namespace(command="dev", port=port, ui_port=ui_port)
    return local_server(args, Settings(data_dir=tmp_path, env=env))


def test_the_defaults_are_temporal_s_own(tmp_path: Path) -> None:
    server = _server(tmp_path)
    assert (server.port, server.ui_port, server.address) == (7233, 8233, "127.0.0.1:7233")
    assert server.db_file == tmp_path / "temporal.sqlite"
    assert server.log_file("worker") == tmp_path / "logs" / "worker.log"
    assert server.flags == ""


def test_a_local_temporal_address_is_followed_with_files_of_its_own(tmp_path: Path) -> None:
    server = _server(tmp_path, TEMPORAL_ADDRESS="localhost:7300")
    assert (server.port, server.ui_port, server.ui_url) == (7300, 8300, "http://localhost:8300")
    assert server.db_file == tmp_path / "temporal-7300.sqlite"
    assert server.log_file("temporal") == tmp_path / "logs" / "temporal-7300.log"
    assert server.flags == " --port 7300"


def test_the_flags_win_over_the_address(tmp_path: Path) -> None:
    server = _server(tmp_path, 7400, 9000, TEMPORAL_ADDRESS="localhost:7300")
    assert (server.port, server.ui_port, server.flags) == (
        7400,
        9000,
        " --port 7400 --ui-port 9000",
    )


def test_a_remote_address_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _server(tmp_path, TEMPORAL_ADDRESS="temporal.example.com:7233")
    assert str(caught.value) == (
        "`taskcraft dev` runs a Temporal server on this machine, but TEMPORAL_ADDRESS (or the "
        "profile) says temporal.example.com:7233; unset it, or pass --port"
    )


@pytest.mark.parametrize(
    ("port", "ui_port", "message"),
    [
        (70000, None, "--port must be a TCP port (1-65535), not 70000"),
        (7300, 7300, "--port and --ui-port must differ (both are 7300)"),
        (65000, None, "--ui-port must be a TCP port (1-65535), not 66000"),
    ],
)
def test_impossible_ports_are_refused(
    tmp_path: Path, port: int, ui_port: int | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        _server(tmp_path, port, ui_port)
