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
The pages live in ``routes`` (tasks and gates), ``login`` and ``error_pages``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from temporalio.client import Client

from inbox.auth import SESSION_COOKIE, Authenticator
from inbox.csrf import origin_of
from inbox.error_pages import ErrorPages
from inbox.login import LoginPages
from inbox.pages import Pages
from inbox.routes import TaskPages
from inbox.settings import InboxSettings
from inbox.tasks import ClientFactory, TemporalAccess
from taskcraft_client import TaskcraftClient

__all__ = ["SESSION_COOKIE", "build_inbox_app"]


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
    tasks = TaskPages(temporal, settings, auth, pages, own_origin)
    login = LoginPages(settings, auth, pages, own_origin)
    routes = [
        Route("/", tasks.inbox, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/login", login.form, methods=["GET"]),
        Route("/login", login.login, methods=["POST"]),
        Route("/logout", login.logout, methods=["POST"]),
        Route("/tasks/{task_id:path}/gates/{gate_id}/decide", tasks.decide, methods=["POST"]),
        Route("/tasks/{task_id:path}/gates/{gate_id}", tasks.gate, methods=["GET"]),
        Route("/tasks/{task_id:path}", tasks.task, methods=["GET"]),
    ]
    errors = ErrorPages(pages, auth)
    return Starlette(routes=routes, exception_handlers=errors.handlers())


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")
