"""Running the inbox with uvicorn: loopback by default, signatures kept out of the access log.

The listening socket is bound before uvicorn starts, so a busy port or an address that is
not this machine's is one ``ConfigError`` line rather than uvicorn's multi-line log.
"""

from __future__ import annotations

import errno
import logging
import re
import socket

import uvicorn

from inbox.app import build_inbox_app
from inbox.settings import DEFAULT_HOST, DEFAULT_PORT, InboxSettings
from infra.settings import Settings
from taskcraft.errors import ConfigError
from taskcraft_client import TaskcraftClient

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_SIGNATURE = re.compile(r"(?<=[?&]sig=)[^&\s]*")

log = logging.getLogger("taskcraft.inbox")


class RedactSignatures(logging.Filter):
    """Access-log lines name the path; a link's ``sig`` is a credential, so it is cut out."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SIGNATURE.sub("REDACTED", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` for uvicorn, or ``ConfigError`` saying why not."""
    where = f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror:
        raise ConfigError(f"cannot listen on {where}: no such host; use --host") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise ConfigError(_bind_failure(where, port, error)) from None
    return sock


def _bind_failure(where: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            f"port {port} is already in use ({where}): another inbox or another program "
            "listens there; stop it, or pick another port with --port"
        )
    if error.errno == errno.EACCES:
        return f"not allowed to listen on {where} (ports below 1024 need privileges); use --port"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: the host is not an address of this machine; use --host"
    return f"cannot listen on {where}: {error.strerror or error}"


def serve_inbox(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    settings: InboxSettings | None = None,
    *,
    connection: Settings,
    sock: socket.socket | None = None,
) -> None:
    """Serve until interrupted, on ``sock`` if given (see ``listen``). Temporal is connected
    on the first request, so the inbox starts (and shows an error page) even while
    Temporal is down."""
    inbox_settings = settings or InboxSettings.from_env(connection.env)
    if sock is None:
        sock = listen(host, port)

    app = build_inbox_app(lambda: TaskcraftClient.connect(connection), inbox_settings)
    if host not in LOOPBACK_HOSTS and inbox_settings.base_url.startswith("http://"):
        log.warning(
            "the inbox listens on %s over plain HTTP: put a TLS-terminating proxy in front "
            "and set TASKCRAFT_INBOX_URL to its https:// address",
            host,
        )
    logging.getLogger("uvicorn.access").addFilter(RedactSignatures())
    config = uvicorn.Config(app, host=host, port=port, log_level="info", server_header=False)
    uvicorn.Server(config).run(sockets=[sock])
