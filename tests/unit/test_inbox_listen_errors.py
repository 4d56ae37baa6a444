"""The inbox's listening socket: a port it cannot take is one line saying why and what to do."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from inbox.serve import listen
from taskcraft.errors import ConfigError


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def test_a_port_in_use_is_named_with_what_to_do(busy_port: int) -> None:
    with pytest.raises(ConfigError) as caught:
        listen("127.0.0.1", busy_port)
    assert str(caught.value) == (
        f"port {busy_port} is already in use (127.0.0.1:{busy_port}): another inbox or another "
        "program listens there; stop it, or pick another port with --port"
    )


def test_an_address_of_another_machine_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^cannot listen on 192\.0\.2\.1:8088: the host is not"):
        listen("192.0.2.1", 8088)  # TEST-NET-1: never an address of this machine


def test_a_host_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^cannot listen on no-such-host\.invalid:8088: no such"):
        listen("no-such-host.invalid", 8088)


def test_a_free_port_is_bound_and_ready_for_uvicorn() -> None:
    sock = listen("127.0.0.1", 0)
    try:
        host, port = sock.getsockname()
        assert host == "127.0.0.1"
        assert port > 0
        sock.listen()
        with pytest.raises(ConfigError, match="already in use"):
            listen("127.0.0.1", port)
    finally:
        sock.close()
