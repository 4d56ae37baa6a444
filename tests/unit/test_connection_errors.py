"""A connection that fails says where it tried, why (in words), and what to do: one line.

Real connections to loopback sockets where the cause can be made here (nothing listening,
a plain server asked for TLS, a web server on the gRPC port, a name that does not
resolve); the SDK's texts for causes that take a network to produce.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from infra.connection import connect, describe_connect_failure
from infra.settings import Settings
from taskcraft.errors import TemporalUnavailableError


async def _connect_error(address: str, tmp_path: Path, **env: str) -> str:
    settings = Settings(data_dir=tmp_path, env={"TEMPORAL_ADDRESS": address, **env})
    with pytest.raises(TemporalUnavailableError) as caught:
        await connect(settings)
    message = str(caught.value)
    assert "\n" not in message
    return message


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _NotFound(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web_server() -> Iterator[int]:
    """A plain HTTP/1.1 server, like the Temporal UI or the inbox on the gRPC port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


async def test_nothing_listening_is_connection_refused(tmp_path: Path) -> None:
    port = _closed_port()
    assert await _connect_error(f"127.0.0.1:{port}", tmp_path) == (
        f"cannot reach the Temporal server at 127.0.0.1:{port} (connection refused); "
        "is it running? Start one with `taskcraft dev` or set TEMPORAL_ADDRESS."
    )


async def test_a_name_that_does_not_resolve_is_a_dns_failure(tmp_path: Path) -> None:
    message = await _connect_error("no-such-host.invalid:7233", tmp_path)
    assert message == (
        "cannot reach the Temporal server at no-such-host.invalid:7233 "
        "(DNS lookup failed: no such host); check the host name in TEMPORAL_ADDRESS."
    )


async def test_tls_to_a_server_without_tls_is_a_tls_failure(
    tmp_path: Path, web_server: int
) -> None:
    message = await _connect_error(f"127.0.0.1:{web_server}", tmp_path, TEMPORAL_TLS="true")
    assert f"at 127.0.0.1:{web_server} (TLS handshake failed: the server does not answer" in (
        message
    )


async def test_a_web_server_on_the_port_is_not_temporal(tmp_path: Path, web_server: int) -> None:
    message = await _connect_error(f"127.0.0.1:{web_server}", tmp_path)
    assert message == (
        f"cannot reach the Temporal server at 127.0.0.1:{web_server} (what answers there does "
        "not speak Temporal's gRPC); check the port in TEMPORAL_ADDRESS (the Web UI's port is "
        "not the gRPC port), and set TEMPORAL_TLS=true if the server expects TLS."
    )


# The SDK's own texts (temporalio 1.35), for causes a loopback socket cannot produce quickly.
SILENT_SERVER = (
    "Failed client connect: `get_system_info` call error after connection: Status { code: "
    'Cancelled, message: "Timeout expired", source: Some(tonic::transport::Error(Transport, '
    "TimeoutExpired(()))) }"
)
UNTRUSTED = (
    "Failed client connect: Server connection error: tonic::transport::Error(Transport, "
    "ConnectError(Custom { kind: InvalidData, error: InvalidCertificate(UnknownIssuer) }))"
)
BAD_KEY = (
    "Failed client connect: `get_system_info` call error after connection: Status { code: "
    'Unauthenticated, message: "Request unauthorized.", metadata: MetadataMap { headers: {} } }'
)


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        (SILENT_SERVER, "timed out"),
        (UNTRUSTED, "TLS failed: the server's certificate is not trusted"),
        (BAD_KEY, "the server refused the credentials"),
    ],
)
def test_causes_that_need_a_network_are_named(text: str, cause: str) -> None:
    assert describe_connect_failure(text)[0] == cause


def test_an_unknown_cause_keeps_its_innermost_message_whole_words_only() -> None:
    text = (
        "Failed client connect: `get_system_info` call error after connection: Status { code: "
        'Unknown, message: "' + "the frobnicator is out of order " * 6 + '", source: None }'
    )
    cause, hint = describe_connect_failure(text)
    kept = cause.removesuffix(" …")
    assert kept != cause
    assert len(kept) <= 120
    whole = "the frobnicator is out of order " * 6
    assert whole.startswith(kept + " ")  # cut between words, not inside one
    assert hint.startswith("is it running?")
