"""Login sessions for the inbox's list: a signed, expiring cookie (see ``approval_links``)."""

from __future__ import annotations

import binascii
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from taskcraft.approval_links import b64, expiry_seconds, mac, unb64

SESSION_PURPOSE = "session/v1"
CSRF_PURPOSE = "csrf/v1"


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
    body = [session.operator, session.session_id, expiry_seconds(session.expires_at)]
    payload = b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{mac(secret, SESSION_PURPOSE, payload)}"


def verify_session(secret: bytes, value: str, *, now: datetime | None = None) -> Session | None:
    """The session in a cookie, or None when it is missing, changed or expired."""
    payload, _, signature = value.partition(".")
    expected = mac(secret, SESSION_PURPOSE, payload)
    if not signature or not hmac.compare_digest(expected.encode(), signature.encode()):
        return None
    try:
        operator, session_id, expiry = json.loads(unb64(payload))
    except (ValueError, TypeError, binascii.Error):
        return None
    expires_at = datetime.fromtimestamp(int(expiry), UTC)
    if (now or datetime.now(UTC)) >= expires_at:
        return None
    return Session(operator=str(operator), session_id=str(session_id), expires_at=expires_at)
