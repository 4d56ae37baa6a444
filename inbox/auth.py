"""Who is acting on an inbox request: a signed link's approver, or the logged-in operator.

- A signed link (``?as=&exp=&sig=`` on a gate's URL, or the same hidden fields in its
  forms) names the approver for that one task and gate.
- ``Authorization: Bearer TASKCRAFT_INBOX_TOKEN``, or the signed session cookie the login
  form sets, names ``TASKCRAFT_INBOX_OPERATOR``.

The name recorded with a decision always comes from here, never from a form field.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from starlette.requests import Request

from inbox.sessions import verify_session
from inbox.settings import InboxSettings
from taskcraft.approval_links import expiry_from_param, verify_link
from taskcraft.errors import LinkError, LinkExpiredError

SESSION_COOKIE = "taskcraft_inbox_session"


@dataclass(frozen=True)
class Principal:
    """Who is acting, and what the CSRF tokens of their forms are bound to."""

    name: str
    via: str  # "link", "session" or "bearer"
    binding: str = ""  # link signature or session id; bearer requests carry nothing ambient
    link_fields: dict[str, str] = field(default_factory=dict)  # as/exp/sig, kept by forms


class LoginRequired(Exception):
    """The page needs the operator's login; answered with the login form and 401."""


class PageError(Exception):
    """A request refused with a page that says why (a bad link, a forged form)."""

    def __init__(self, status: int, title: str, text: str) -> None:
        super().__init__(text)
        self.status, self.title, self.text = status, title, text


class Authenticator:
    def __init__(self, settings: InboxSettings) -> None:
        self._settings = settings
        self._bearer = f"Bearer {settings.token}".encode() if settings.token else None

    @property
    def login_configured(self) -> bool:
        return self._bearer is not None

    def token_matches(self, token: str) -> bool:
        return self._bearer is not None and hmac.compare_digest(
            f"Bearer {token}".encode(), self._bearer
        )

    def login(self, request: Request) -> Principal | None:
        """The operator, from the Bearer header or the session cookie; None if neither."""
        if self._bearer is None:  # no login configured: only links work
            return None
        given = request.headers.get("authorization")
        if given is not None:
            if hmac.compare_digest(given.encode(), self._bearer):
                return Principal(name=self._settings.operator, via="bearer")
            return None
        session = verify_session(self._settings.secret, request.cookies.get(SESSION_COOKIE, ""))
        if session is None:
            return None
        return Principal(name=session.operator, via="session", binding=session.session_id)

    def require_login(self, request: Request) -> Principal:
        principal = self.login(request)
        if principal is None:
            raise LoginRequired
        return principal

    def link(self, task_id: str, gate_id: str, approver: str, exp: str, sig: str) -> Principal:
        """The approver a signed link names; PageError (403, or 410 expired) otherwise."""
        try:
            expires_at = expiry_from_param(exp)
            verify_link(self._settings.secret, task_id, gate_id, approver, expires_at, sig)
        except LinkExpiredError as error:
            raise PageError(410, "This link has expired", str(error)) from None
        except LinkError as error:
            raise PageError(403, "This link is not valid", str(error)) from None
        fields = {"as": approver, "exp": exp, "sig": sig}
        return Principal(name=approver, via="link", binding=sig, link_fields=fields)

    def for_gate(self, request: Request, form: dict[str, str] | None) -> Principal:
        """A gate's page or form: the link in its query (GET) or fields (POST), else login."""
        params = form if form is not None else request.query_params
        task_id, gate_id = request.path_params["task_id"], request.path_params["gate_id"]
        sig = params.get("sig", "")
        if sig:
            return self.link(task_id, gate_id, params.get("as", ""), params.get("exp", ""), sig)
        return self.require_login(request)
