"""Signed, expiring approval links: one per approver and gate, checked without any state.

An approval link names the task, the gate, the approver and the expiry in plain query
parameters and carries an HMAC-SHA256 over exactly those four values::

    {base}/tasks/{task_id}/gates/{gate_id}?as=alice&exp=1767225600&sig=...

Changing any of them (another gate, another task, another approver, a later expiry)
breaks the signature. A link needs no server-side state: a gate can be decided only once
(the workflow refuses a second decision), so a used link simply finds it decided.

Each purpose uses its own key derived from ``TASKCRAFT_INBOX_SECRET`` with HMAC, so a
signature made for one purpose (a session) is never valid for another (a link). Workers
sign links into gate notifications; the inbox verifies them: both import this module,
which needs only the standard library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

from taskcraft.errors import ConfigError, LinkExpiredError, LinkInvalidError

SECRET_VAR = "TASKCRAFT_INBOX_SECRET"
URL_VAR = "TASKCRAFT_INBOX_URL"
APPROVERS_VAR = "TASKCRAFT_INBOX_APPROVERS"
LINK_TTL_VAR = "TASKCRAFT_INBOX_LINK_TTL_S"
DEFAULT_BASE_URL = "http://127.0.0.1:8088"
# 256 bits of key material when the secret is random text (e.g. `openssl rand -hex 32`).
MIN_SECRET_CHARS = 32
DEFAULT_LINK_TTL_S = 24 * 3600.0

LINK_PURPOSE = "approval-link/v1"


def seconds_setting(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, not {raw!r}")
    return value


@dataclass(frozen=True)
class LinkSettings:
    """What signing and checking links needs: the secret, where links point, their lifetime."""

    secret: bytes = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    link_ttl_s: float = DEFAULT_LINK_TTL_S
    default_approvers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_SECRET_CHARS:
            raise ConfigError(
                f"{SECRET_VAR} must be at least {MIN_SECRET_CHARS} characters; "
                "generate one with `openssl rand -hex 32`."
            )
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"{URL_VAR} must start with http:// or https://, not {self.base_url!r}"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LinkSettings:
        secret = env.get(SECRET_VAR, "").strip()
        if not secret:
            raise ConfigError(
                f"The inbox needs {SECRET_VAR} (the key that signs approval links); "
                "generate one with `openssl rand -hex 32` and give every worker the same value."
            )
        approvers = tuple(
            name.strip() for name in env.get(APPROVERS_VAR, "").split(",") if name.strip()
        )
        return cls(
            secret=secret.encode(),
            base_url=(env.get(URL_VAR, "").strip() or DEFAULT_BASE_URL).rstrip("/"),
            link_ttl_s=seconds_setting(env, LINK_TTL_VAR, DEFAULT_LINK_TTL_S),
            default_approvers=approvers,
        )

    @classmethod
    def for_notifications(cls, env: Mapping[str, str]) -> LinkSettings | None:
        """What a worker needs to put links in notifications; None when no inbox is set up."""
        if not env.get(URL_VAR, "").strip():
            return None
        return cls.from_env(env)


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose only, so signatures never carry over between purposes."""
    return hmac.new(secret, f"taskcraft-inbox/{purpose}".encode(), hashlib.sha256).digest()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mac(secret: bytes, purpose: str, *fields: str | int) -> str:
    """HMAC-SHA256 over an unambiguous encoding (a JSON array) of ``fields``."""
    message = json.dumps(list(fields), separators=(",", ":"), ensure_ascii=True).encode()
    return b64(hmac.new(derive_key(secret, purpose), message, hashlib.sha256).digest())


def expiry_seconds(expires_at: datetime) -> int:
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    return int(expires_at.timestamp())


def sign_link(
    secret: bytes, task_id: str, gate_id: str, approver: str, expires_at: datetime
) -> str:
    """The signature (``sig``) of the link naming this task, gate, approver and expiry."""
    return mac(secret, LINK_PURPOSE, task_id, gate_id, approver, expiry_seconds(expires_at))


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
    expiry = datetime.fromtimestamp(expiry_seconds(expires_at), UTC)
    links = []
    for approver in dict.fromkeys(approvers):  # unique, in order
        signature = sign_link(secret, task_id, gate_id, approver, expiry)
        query = {"as": approver, "exp": str(expiry_seconds(expiry)), "sig": signature}
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
    settings: LinkSettings,
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
