"""The approval inbox: a web page where a manager sees what an agent wants to do and decides.

``build_inbox_app`` is the ASGI app and ``serve_inbox`` runs it. The approval links in
gate notifications are signed by workers with ``taskcraft.approval_links`` and checked
here with the same module; the inbox reads and decides tasks through the Python client.
"""

from inbox.app import build_inbox_app
from inbox.serve import serve_inbox
from inbox.settings import InboxSettings

__all__ = ["InboxSettings", "build_inbox_app", "serve_inbox"]
