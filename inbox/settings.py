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

from taskcraft.approval_links import (
    DEFAULT_BASE_URL,
    DEFAULT_LINK_TTL_S,
    LinkSettings,
    seconds_setting,
)

TOKEN_VAR = "TASKCRAFT_INBOX_TOKEN"
OPERATOR_VAR = "TASKCRAFT_INBOX_OPERATOR"
SESSION_TTL_VAR = "TASKCRAFT_INBOX_SESSION_TTL_S"
FILTER_VAR = "TASKCRAFT_INBOX_FILTER"
QUERY_TIMEOUT_VAR = "TASKCRAFT_INBOX_QUERY_TIMEOUT_S"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8088
DEFAULT_SESSION_TTL_S = 12 * 3600.0
# A query waits for the task's worker; one whose worker is gone must not hold the page.
DEFAULT_QUERY_TIMEOUT_S = 5.0


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
        self.links  # noqa: B018 - the same checks as the workers' signing settings

    @property
    def links(self) -> LinkSettings:
        return LinkSettings(
            secret=self.secret,
            base_url=self.base_url,
            link_ttl_s=self.link_ttl_s,
            default_approvers=self.default_approvers,
        )

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> InboxSettings:
        links = LinkSettings.from_env(env)
        return cls(
            secret=links.secret,
            base_url=links.base_url,
            token=env.get(TOKEN_VAR, "").strip() or None,
            operator=env.get(OPERATOR_VAR, "").strip() or "operator",
            default_approvers=links.default_approvers,
            link_ttl_s=links.link_ttl_s,
            session_ttl_s=seconds_setting(env, SESSION_TTL_VAR, DEFAULT_SESSION_TTL_S),
            list_filter=env.get(FILTER_VAR, "").strip(),
            query_timeout_s=seconds_setting(env, QUERY_TIMEOUT_VAR, DEFAULT_QUERY_TIMEOUT_S),
            ui_url=(env.get("TASKCRAFT_UI_URL", "").strip() or "http://localhost:8233").rstrip("/"),
            namespace=env.get("TEMPORAL_NAMESPACE", "").strip() or "default",
        )
