"""``taskcraft inbox``: serve the approval inbox (see ``inbox``) until interrupted."""

from __future__ import annotations

from argparse import Namespace

from infra.settings import Settings


def run_inbox(args: Namespace, settings: Settings) -> int:
    """Serve on ``args.host``/``args.port`` (default 127.0.0.1:8088); settings from the env.

    Configuration errors (a missing ``TASKCRAFT_INBOX_SECRET``, a port in use) raise
    ``ConfigError``, which the CLI prints as one ``Error:`` line.
    """
    from inbox.serve import listen, serve_inbox
    from inbox.settings import DEFAULT_HOST, DEFAULT_PORT, InboxSettings

    inbox_settings = InboxSettings.from_env(settings.env)
    host = getattr(args, "host", None) or DEFAULT_HOST
    port = getattr(args, "port", None) or DEFAULT_PORT
    sock = listen(host, port)  # before saying where it runs: the port may be taken
    print(
        f"Approval inbox on http://{host}:{port} (links point to {inbox_settings.base_url}); "
        "Ctrl-C stops it",
        flush=True,
    )
    serve_inbox(host, port, inbox_settings, connection=settings, sock=sock)
    return 0
