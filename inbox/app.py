"""The approval inbox: a small server-rendered web app in front of Temporal.

    GET  /                                   tasks awaiting a human, oldest first (login)
    GET  /login, POST /login, POST /logout   the operator's login (TASKCRAFT_INBOX_TOKEN)
    GET  /tasks/{task_id}                    a task: status, timeline, pending request,
                                             decisions, Temporal UI link (login)
    GET  /tasks/{task_id}/gates/{gate_id}    the same page for one gate, opened from a
                                             signed link (?as=&exp=&sig=) or after login
    POST /tasks/{task_id}/gates/{gate_id}/decide   approve, reject or edit (CSRF-checked)
    GET  /health                             "ok", without touching Temporal

Who decides is the approver the link names, or the operator the login names; never a
form field. Decisions use the ``decide_and_confirm`` update, so the page shows the
definite outcome. Nothing is stored here: several inbox processes can share the load.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from temporalio.client import Client
from temporalio.service import RPCError

from inbox.auth import SESSION_COOKIE, Authenticator, LoginRequired, PageError, Principal
from inbox.csrf import csrf_token, csrf_valid, origin_of, same_origin
from inbox.pages import Pages, form_text, redirect
from inbox.sessions import Session, sign_session
from inbox.settings import InboxSettings
from inbox.tasks import (
    OUTAGE_CODES,
    ClientFactory,
    TemporalAccess,
)
from inbox.views import KIND_TITLES, DecisionForm, parse_decision, task_context
from taskcraft.approval_links import gate_path
from taskcraft.errors import TemporalUnavailableError, UnknownTaskError, WorkerUnavailableError
from taskcraft_client import TaskcraftClient

__all__ = ["SESSION_COOKIE", "build_inbox_app"]

LOGOUT_SCOPE = "logout"
FORM_REFUSED = (
    "This form could not be verified (it did not come from this page, or the page is "
    "stale). Nothing was changed; open the link again and decide there."
)

log = logging.getLogger("taskcraft.inbox")


def build_inbox_app(
    client: Client | TaskcraftClient | ClientFactory, settings: InboxSettings
) -> Starlette:
    """The inbox as an ASGI app; ``client`` is a Client or an async factory (connected lazily)."""
    temporal = TemporalAccess(
        client, query_timeout_s=settings.query_timeout_s, list_filter=settings.list_filter
    )
    pages = Pages()
    auth = Authenticator(settings)
    own_origin = origin_of(settings.base_url)

    async def render_task(
        principal: Principal,
        task_id: str,
        gate_id: str | None,
        *,
        status: int = 200,
        form: DecisionForm | None = None,
        focus: str = "",
    ) -> Response:
        runs, worker_note = await temporal.all_runs(task_id)
        client = (await temporal.client()).temporal
        context = task_context(
            runs,
            gate_id=gate_id,
            principal_name=principal.name,
            ui_url=settings.ui_url,
            namespace=client.namespace,
            form=form,
            focus=focus,
        )
        gate = context["gate_id"]
        if gate is not None:
            context["decide_url"] = gate_path(task_id, gate) + "/decide"
            context["csrf"] = csrf_token(settings.secret, principal.binding, task_id, gate)
        context.update(
            principal=principal, logout_csrf=_logout_csrf(principal), worker_note=worker_note
        )
        return pages.render("task.html", context, status=status)

    def _logout_csrf(principal: Principal) -> str:
        return csrf_token(settings.secret, principal.binding, LOGOUT_SCOPE)

    # ----- routes -------------------------------------------------------------------

    async def inbox(request: Request) -> Response:
        principal = auth.require_login(request)
        rows, truncated = await temporal.awaiting()
        context = {
            "rows": rows,
            "truncated": truncated,
            "principal": principal,
            "logout_csrf": _logout_csrf(principal),
        }
        return pages.render("inbox.html", context)

    async def login_form(request: Request) -> Response:
        return pages.render("login.html", {"configured": auth.login_configured, "error": ""})

    async def login(request: Request) -> Response:
        if not same_origin(request.headers, own_origin):
            raise PageError(
                403, "Form refused", "This form was not sent from the inbox's own page."
            )
        if not auth.token_matches(form_text(await request.form(), "token")):
            context = {"configured": auth.login_configured, "error": "Wrong token."}
            return pages.render("login.html", context, status=401)
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

    async def logout(request: Request) -> Response:
        principal = auth.require_login(request)
        form = await request.form()
        if not same_origin(request.headers, own_origin) or not csrf_valid(
            settings.secret, principal.binding, form_text(form, "csrf"), LOGOUT_SCOPE
        ):
            raise PageError(403, "Form refused", "The sign-out form could not be verified.")
        response = redirect("/login")
        response.delete_cookie(SESSION_COOKIE)
        return response

    async def task_page(request: Request) -> Response:
        principal = auth.require_login(request)
        return await render_task(principal, request.path_params["task_id"], None)

    async def gate_page(request: Request) -> Response:
        principal = auth.for_gate(request, None)
        task_id, gate_id = request.path_params["task_id"], request.path_params["gate_id"]
        focus = request.query_params.get("do", "")
        return await render_task(principal, task_id, gate_id, focus=focus)

    async def decide(request: Request) -> Response:
        task_id, gate_id = request.path_params["task_id"], request.path_params["gate_id"]
        raw_form = await request.form()
        form = {key: value for key, value in raw_form.items() if isinstance(value, str)}
        principal = auth.for_gate(request, form)
        if principal.via != "bearer" and not (
            same_origin(request.headers, own_origin)
            and csrf_valid(
                settings.secret, principal.binding, form.get("csrf", ""), task_id, gate_id
            )
        ):
            raise PageError(403, "Form refused", FORM_REFUSED)
        decision_form = parse_decision(form, approver=principal.name, gate_id=gate_id)
        if decision_form.error or decision_form.decision is None:
            return await render_task(principal, task_id, gate_id, status=422, form=decision_form)
        result = await temporal.decide(task_id, decision_form.decision)
        if result.outcome is not None:
            back = gate_path(task_id, gate_id)
            if principal.link_fields:
                back += "?" + urlencode(principal.link_fields)
            return pages.message(
                KIND_TITLES[decision_form.decision.kind],
                f"{result.outcome.message}. The task continues.",
                status=200,
                back=back,
            )
        refused = decision_form.with_error(result.refusal or "refused")
        return await render_task(principal, task_id, gate_id, status=409, form=refused)

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    # ----- errors: pages, never tracebacks ---------------------------------------------

    async def on_login_required(request: Request, exc: Exception) -> Response:
        context = {"configured": auth.login_configured, "error": ""}
        return pages.render(
            "login.html", context, status=401, headers={"WWW-Authenticate": "Bearer"}
        )

    async def on_page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        return pages.message(exc.title, exc.text, status=exc.status)

    async def on_unknown_task(request: Request, exc: Exception) -> Response:
        return pages.message("No such task", str(exc), status=404)

    async def on_outage(request: Request, exc: Exception) -> Response:
        if isinstance(exc, RPCError) and exc.status not in OUTAGE_CODES:
            log.warning("temporal refused a request: %s", exc.message)
            return pages.message("Temporal refused the request", exc.message, status=502)
        log.warning("temporal unavailable: %s", exc)
        text = (
            "The Temporal server cannot be reached right now, so tasks cannot be shown or "
            "decided. Nothing was changed. Try again in a minute."
        )
        return pages.message("Temporal is unavailable", text, status=503)

    async def on_slow_worker(request: Request, exc: Exception) -> Response:
        return pages.message("The task's worker did not answer", str(exc), status=503)

    async def on_runtime_error(request: Request, exc: Exception) -> Response:
        # The SDK reports a client that cannot (re)connect as a plain RuntimeError.
        if str(exc).startswith("Failed client connect"):
            return await on_outage(request, exc)
        return await on_crash(request, exc)

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("inbox request failed", exc_info=exc)
        text = "Something went wrong on the inbox's side; it was logged. Nothing was changed."
        return pages.message("Internal error", text, status=500)

    routes = [
        Route("/", inbox, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/tasks/{task_id:path}/gates/{gate_id}/decide", decide, methods=["POST"]),
        Route("/tasks/{task_id:path}/gates/{gate_id}", gate_page, methods=["GET"]),
        Route("/tasks/{task_id:path}", task_page, methods=["GET"]),
    ]
    handlers = {
        LoginRequired: on_login_required,
        PageError: on_page_error,
        UnknownTaskError: on_unknown_task,
        TemporalUnavailableError: on_outage,
        RPCError: on_outage,
        WorkerUnavailableError: on_slow_worker,
        RuntimeError: on_runtime_error,
        Exception: on_crash,
    }
    return Starlette(routes=routes, exception_handlers=handlers)
