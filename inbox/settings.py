"""The inbox's settings, read once from the environment (never at import time).

TASKCRAFT_INBOX_SECRET       required: the HMAC key of approval links, sessions and CSRF
                             tokens (at least 32 characters; the same in every inbox
                             process and every worker that sends notifications)
TASKCRAFT_INBOX_URL          the inbox's public base URL, used in links and as the only
                             origin forms are accepted from (default http://127.0.0.1:8088)
TASKCRAFT_INBOX_TOKEN        the operator's token for the task list (Bearer header or the
                             login form); unset: the list is closed and only links work
TASKCRAFT_INBOX_OPERATOR     the name decisions made after a login are recorded under
                             (default "operator")
TASKCRAFT_INBOX_APPROVERS    comma-separated names that get links for gates any operator
                             may decide (a gate that names its approvers uses those)
TASKCRAFT_INBOX_LINK_TTL_S   link lifetime when the gate's timeout is unknown (default 24 h)
TASKCRAFT_INBOX_SESSION_TTL_S  how long a login lasts (default 12 h)
TASKCRAFT_INBOX_FILTER       extra visibility filter ANDed into the list, e.g.
                             "TaskcraftAgent = 'incident-report'" (an inbox per team)
TASKCRAFT_INBOX_QUERY_TIMEOUT_S  how long to wait for a task's worker to answer (default 5)
TASKCRAFT_UI_URL, TEMPORAL_NAMESPACE   where the Temporal UI links point
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from taskcraft.errors import ConfigError

SECRET_VAR = "TASKCRAFT_INBOX_SECRET"
URL_VAR = "TASKCRAFT_INBOX_URL"
TOKEN_VAR = "TASKCRAFT_INBOX_TOKEN"
OPERATOR_VAR = "TASKCRAFT_INBOX_OPERATOR"
APPROVERS_VAR = "TASKCRAFT_INBOX_APPROVERS"
LINK_TTL_VAR = "TASKCRAFT_INBOX_LINK_TTL_S"
SESSION_TTL_VAR = "TASKCRAFT_INBOX_SESSION_TTL_S"
FILTER_VAR = "TASKCRAFT_INBOX_FILTER"
QUERY_TIMEOUT_VAR = "TASKCRAFT_INBOX_QUERY_TIMEOUT_S"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8088
DEFAULT_BASE_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
# 256 bits of key material when the secret is random text (e.g. `openssl rand -hex 32`).
MIN_SECRET_CHARS = 32
DEFAULT_LINK_TTL_S = 24 * 3600.0
DEFAULT_SESSION_TTL_S = 12 * 3600.0
# A query waits for the task's worker; one whose worker is gone must not hold the page.
DEFAULT_QUERY_TIMEOUT_S = 5.0


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
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
class InboxSettings:
    secret: bytes = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    token: str | None = field(default=None, repr=False)
    operator: str = "operator"
    default_approvers: tuple[str, ...] = ()
    link_ttl_s: float = DEFAULT_LINK_TTL_S
    session_ttl_s: float = DEFAULT_SESSION_TTL_S
    list_filter: str = ""
    query_timeout_s: float = DEFAULT_QUERY_TIMEOUT_S
    ui_url: str = "http://localhost:8233"
    namespace: str = "default"

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

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> InboxSettings:
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
            token=env.get(TOKEN_VAR, "").strip() or None,
            operator=env.get(OPERATOR_VAR, "").strip() or "operator",
            default_approvers=approvers,
            link_ttl_s=_seconds(env, LINK_TTL_VAR, DEFAULT_LINK_TTL_S),
            session_ttl_s=_seconds(env, SESSION_TTL_VAR, DEFAULT_SESSION_TTL_S),
            list_filter=env.get(FILTER_VAR, "").strip(),
            query_timeout_s=_seconds(env, QUERY_TIMEOUT_VAR, DEFAULT_QUERY_TIMEOUT_S),
            ui_url=(env.get("TASKCRAFT_UI_URL", "").strip() or "http://localhost:8233").rstrip("/"),
            namespace=env.get("TEMPORAL_NAMESPACE", "").strip() or "default",
        )

    @classmethod
    def for_notifications(cls, env: Mapping[str, str]) -> InboxSettings | None:
        """What a worker needs to put links in notifications; None when no inbox is set up."""
        if not env.get(URL_VAR, "").strip():
            return None
        return cls.from_env(env)
