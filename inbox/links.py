"""Signed, expiring credentials: approval links (one per approver and gate) and login sessions.

An approval link names the task, the gate, the approver and the expiry in plain query
parameters and carries an HMAC-SHA256 over exactly those four values::

    {base}/tasks/{task_id}/gates/{gate_id}?as=alice&exp=1767225600&sig=...

Changing any of them (another gate, another task, another approver, a later expiry)
breaks the signature. A link needs no server-side state: a gate can be decided only once
(the workflow refuses a second decision), so a used link simply finds it decided.

Each purpose uses its own key derived from ``TASKCRAFT_INBOX_SECRET`` with HMAC, so a
signature made for one purpose (a session) is never valid for another (a link).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

from inbox.settings import InboxSettings

LINK_PURPOSE = "approval-link/v1"
SESSION_PURPOSE = "session/v1"
CSRF_PURPOSE = "csrf/v1"


class LinkError(Exception):
    """Why a link cannot be used; the message is shown on the page."""


class LinkInvalidError(LinkError):
    pass


class LinkExpiredError(LinkError):
    pass


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose only, so signatures never carry over between purposes."""
    return hmac.new(secret, f"taskcraft-inbox/{purpose}".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mac(secret: bytes, purpose: str, *fields: str | int) -> str:
    """HMAC-SHA256 over an unambiguous encoding (a JSON array) of ``fields``."""
    message = json.dumps(list(fields), separators=(",", ":"), ensure_ascii=True).encode()
    return _b64(hmac.new(derive_key(secret, purpose), message, hashlib.sha256).digest())


def _expiry(expires_at: datetime) -> int:
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    return int(expires_at.timestamp())


def sign_link(
    secret: bytes, task_id: str, gate_id: str, approver: str, expires_at: datetime
) -> str:
    """The signature (``sig``) of the link naming this task, gate, approver and expiry."""
    return mac(secret, LINK_PURPOSE, task_id, gate_id, approver, _expiry(expires_at))


def verify_link(
    secret: bytes,
    task_id: str,
    gate_id: str,
    approver: str,
    expires_at: datetime,
    token: str,
    *,
    now: datetime | None = None,
) -> None:
    """Raise ``LinkInvalidError`` for a changed or foreign link, ``LinkExpiredError`` after expiry.

    The signature is checked first, so an expired link that was also tampered with is
    reported as invalid and reveals nothing about what it would have granted.
    """
    expected = sign_link(secret, task_id, gate_id, approver, expires_at)
    if not hmac.compare_digest(expected.encode(), token.encode()):
        raise LinkInvalidError(
            "This approval link is not valid for this task and gate: it was changed, "
            "or it belongs to another task, gate or person."
        )
    if (now or datetime.now(UTC)) >= expires_at:
        raise LinkExpiredError(
            f"This approval link expired at {expires_at:%Y-%m-%d %H:%M} UTC. "
            "Nothing was changed; decide from the inbox or the CLI instead."
        )


def expiry_from_param(raw: str) -> datetime:
    """The ``exp`` query parameter (Unix seconds) as a datetime; LinkInvalidError if malformed."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 11:  # 11 digits reach the year 5138
        raise LinkInvalidError("This approval link is incomplete or malformed.")
    return datetime.fromtimestamp(int(raw), UTC)


@dataclass(frozen=True)
class ApprovalLink:
    approver: str
    expires_at: datetime
    url: str  # the gate's page, signed for this approver
    approve_url: str  # the same page, opened at the Approve form
    reject_url: str  # the same page, opened at the Reject form


def gate_path(task_id: str, gate_id: str) -> str:
    return f"/tasks/{quote(task_id, safe='')}/gates/{quote(gate_id, safe='')}"


def approval_links(
    base_url: str,
    secret: bytes,
    task_id: str,
    gate_id: str,
    approvers: Iterable[str],
    expires_at: datetime,
) -> list[ApprovalLink]:
    """One signed link per approver for this gate (no approvers: no links)."""
    base = base_url.rstrip("/") + gate_path(task_id, gate_id)
    expiry = datetime.fromtimestamp(_expiry(expires_at), UTC)
    links = []
    for approver in dict.fromkeys(approvers):  # unique, in order
        signature = sign_link(secret, task_id, gate_id, approver, expiry)
        query = {"as": approver, "exp": str(_expiry(expiry)), "sig": signature}
        url = f"{base}?{urlencode(query)}"
        links.append(
            ApprovalLink(
                approver=approver,
                expires_at=expiry,
                url=url,
                approve_url=f"{url}&do=approve",
                reject_url=f"{url}&do=reject",
            )
        )
    return links


@dataclass(frozen=True)
class GateLinks:
    """What a notification carries for one gate: a link per approver, and the inbox page."""

    task_url: str  # the task's page in the inbox (needs the operator's login)
    links: list[ApprovalLink]

    def as_json(self) -> list[dict[str, str]]:
        return [
            {
                "approver": link.approver,
                "url": link.url,
                "approve_url": link.approve_url,
                "reject_url": link.reject_url,
                "expires_at": link.expires_at.isoformat(),
            }
            for link in self.links
        ]

    def as_text(self) -> str:
        lines = [f"Inbox: {self.task_url}"]
        lines += [f"Decide as {link.approver}: {link.url}" for link in self.links]
        return "\n".join(lines)


def gate_links(
    settings: InboxSettings,
    *,
    task_id: str,
    gate_id: str,
    approvers: Iterable[str],
    timeout_at: datetime | None,
    now: datetime | None = None,
) -> GateLinks:
    """The links for a gate notification (what ``activities.notify`` calls).

    Links expire when the gate times out (``timeout_at``), or after
    ``TASKCRAFT_INBOX_LINK_TTL_S`` when that is unknown. A gate any operator may decide
    (no approvers) gets links for ``TASKCRAFT_INBOX_APPROVERS``, if set.
    """
    start = now or datetime.now(UTC)
    expires_at = timeout_at or start + timedelta(seconds=settings.link_ttl_s)
    names = list(approvers) or list(settings.default_approvers)
    task_url = f"{settings.base_url}/tasks/{quote(task_id, safe='')}"
    links = approval_links(settings.base_url, settings.secret, task_id, gate_id, names, expires_at)
    return GateLinks(task_url=task_url, links=links)


# ----- login sessions -------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    operator: str
    session_id: str  # random; CSRF tokens of this login are bound to it
    expires_at: datetime

    @classmethod
    def new(cls, operator: str, ttl_s: float, now: datetime | None = None) -> Session:
        start = now or datetime.now(UTC)
        expiry = datetime.fromtimestamp(int((start + timedelta(seconds=ttl_s)).timestamp()), UTC)
        return cls(operator=operator, session_id=secrets.token_urlsafe(16), expires_at=expiry)


def sign_session(secret: bytes, session: Session) -> str:
    """The cookie value: the session as base64url JSON, a dot, and its signature."""
    body = [session.operator, session.session_id, _expiry(session.expires_at)]
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{mac(secret, SESSION_PURPOSE, payload)}"


def verify_session(secret: bytes, value: str, *, now: datetime | None = None) -> Session | None:
    """The session in a cookie, or None when it is missing, changed or expired."""
    payload, _, signature = value.partition(".")
    expected = mac(secret, SESSION_PURPOSE, payload)
    if not signature or not hmac.compare_digest(expected.encode(), signature.encode()):
        return None
    try:
        operator, session_id, expiry = json.loads(_unb64(payload))
    except (ValueError, TypeError, binascii.Error):
        return None
    expires_at = datetime.fromtimestamp(int(expiry), UTC)
    if (now or datetime.now(UTC)) >= expires_at:
        return None
    return Session(operator=str(operator), session_id=str(session_id), expires_at=expires_at)
