"""The operator's login: a token exchanged for a signed session cookie, and sign-out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from inbox.auth import SESSION_COOKIE, Authenticator, PageError
from inbox.csrf import csrf_valid, same_origin
from inbox.pages import Pages, form_text, redirect
from inbox.routes import LOGOUT_SCOPE
from inbox.sessions import Session, sign_session
from inbox.settings import InboxSettings


class LoginPages:
    def __init__(
        self, settings: InboxSettings, auth: Authenticator, pages: Pages, own_origin: str
    ) -> None:
        self._settings = settings
        self._auth = auth
        self._pages = pages
        self._own_origin = own_origin

    async def form(self, request: Request) -> Response:
        context = {"configured": self._auth.login_configured, "error": ""}
        return self._pages.render("login.html", context)

    async def login(self, request: Request) -> Response:
        if not same_origin(request.headers, self._own_origin):
            raise PageError(
                403, "Form refused", "This form was not sent from the inbox's own page."
            )
        if not self._auth.token_matches(form_text(await request.form(), "token")):
            context = {"configured": self._auth.login_configured, "error": "Wrong token."}
            return self._pages.render("login.html", context, status=401)
        settings = self._settings
        session = Session.new(settings.operator, settings.session_ttl_s)
        response = redirect("/")
        response.set_cookie(
            SESSION_COOKIE,
            sign_session(settings.secret, session),
            max_age=int(settings.session_ttl_s),
            httponly=True,
            secure=settings.secure_cookies,
            samesite="lax",
        )
        return response

    async def logout(self, request: Request) -> Response:
        principal = self._auth.require_login(request)
        form = await request.form()
        if not same_origin(request.headers, self._own_origin) or not csrf_valid(
            self._settings.secret, principal.binding, form_text(form, "csrf"), LOGOUT_SCOPE
        ):
            raise PageError(403, "Form refused", "The sign-out form could not be verified.")
        response = redirect("/login")
        response.delete_cookie(SESSION_COOKIE)
        return response
