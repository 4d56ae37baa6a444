"""Cross-site request forgery protection for the inbox's forms.

Two checks, both required for a browser's POST:

- a per-form token: HMAC-SHA256 (its own derived key) over what authenticates the form —
  the approval link's signature or the login session's random id — and the form's scope
  (task and gate). A token taken from one gate's page is useless for another gate, and
  one from another session or link is useless here.
- the ``Origin`` header (or, when a browser omits it, the ``Referer``) must be the
  inbox's own origin from ``TASKCRAFT_INBOX_URL``. Requests that carry neither come from
  non-browser clients, which cannot be tricked into sending a victim's credentials.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from urllib.parse import urlsplit

from inbox.sessions import CSRF_PURPOSE
from taskcraft.approval_links import mac


def csrf_token(secret: bytes, binding: str, *scope: str) -> str:
    """The token a form carries; ``binding`` is the link signature or the session id."""
    return mac(secret, CSRF_PURPOSE, binding, *scope)


def csrf_valid(secret: bytes, binding: str, given: str, *scope: str) -> bool:
    expected = csrf_token(secret, binding, *scope)
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode())


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` as browsers write it in the Origin header."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: matches no origin
        return ""
    host = (parts.hostname or "").lower()
    if port is not None and port != {"http": 80, "https": 443}.get(parts.scheme):
        host = f"{host}:{port}"
    return f"{parts.scheme}://{host}"


def same_origin(headers: Mapping[str, str], allowed_origin: str) -> bool:
    """Whether a POST comes from the inbox's own pages (see the module docstring)."""
    origin = headers.get("origin")
    if origin is not None:
        # "null" is what browsers send from sandboxed frames and privacy-sensitive contexts.
        return origin != "null" and origin_of(origin) == allowed_origin
    referer = headers.get("referer")
    if referer is not None:
        return origin_of(referer) == allowed_origin
    return True
