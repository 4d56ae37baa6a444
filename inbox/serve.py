"""Running the inbox with uvicorn: loopback by default, signatures kept out of the access log."""

from __future__ import annotations

import logging
import re

import uvicorn

from inbox.app import build_inbox_app
from inbox.settings import DEFAULT_HOST, DEFAULT_PORT, InboxSettings
from infra.settings import Settings
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


def serve_inbox(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    settings: InboxSettings | None = None,
    *,
    connection: Settings,
) -> None:
    """Serve until interrupted. Temporal is connected on the first request, so the inbox
    starts (and shows an error page) even while Temporal is down."""
    inbox_settings = settings or InboxSettings.from_env(connection.env)

    app = build_inbox_app(lambda: TaskcraftClient.connect(connection), inbox_settings)
    if host not in LOOPBACK_HOSTS and inbox_settings.base_url.startswith("http://"):
        log.warning(
            "the inbox listens on %s over plain HTTP: put a TLS-terminating proxy in front "
            "and set TASKCRAFT_INBOX_URL to its https:// address",
            host,
        )
    logging.getLogger("uvicorn.access").addFilter(RedactSignatures())
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
