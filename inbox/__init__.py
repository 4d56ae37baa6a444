"""The approval inbox: a web page where a manager sees what an agent wants to do and decides.

``build_inbox_app`` is the ASGI app, ``serve_inbox`` runs it; workers sending gate
notifications use ``gate_links`` and ``gate_message`` (Slack Block Kit) with
``InboxSettings.for_notifications``.

The web app is imported on first use only: workers import the link functions from the
notify activity, and must not pull in the app (it imports the CLI's task helpers, and
``infra`` imports ``activities``, which would close an import cycle).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from inbox.links import (
    ApprovalLink,
    GateLinks,
    LinkError,
    LinkExpiredError,
    LinkInvalidError,
    approval_links,
    gate_links,
    sign_link,
    verify_link,
)
from inbox.settings import InboxSettings
from inbox.slack_blocks import gate_message

if TYPE_CHECKING:
    from inbox.app import build_inbox_app
    from inbox.serve import serve_inbox

__all__ = [
    "ApprovalLink",
    "GateLinks",
    "InboxSettings",
    "LinkError",
    "LinkExpiredError",
    "LinkInvalidError",
    "approval_links",
    "build_inbox_app",
    "gate_links",
    "gate_message",
    "serve_inbox",
    "sign_link",
    "verify_link",
]


def __getattr__(name: str) -> Any:
    if name == "build_inbox_app":
        from inbox.app import build_inbox_app

        return build_inbox_app
    if name == "serve_inbox":
        from inbox.serve import serve_inbox

        return serve_inbox
    raise AttributeError(f"module 'inbox' has no attribute {name!r}")
