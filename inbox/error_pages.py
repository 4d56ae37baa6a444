"""Every failure of a request becomes a page that says what happened, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from temporalio.service import RPCError

from inbox.auth import Authenticator, LoginRequired, PageError
from inbox.pages import Pages
from inbox.tasks import OUTAGE_CODES
from taskcraft.errors import TemporalUnavailableError, UnknownTaskError, WorkerUnavailableError

log = logging.getLogger("taskcraft.inbox")

Handler = Callable[[Request, Exception], Awaitable[Response]]
OUTAGE_TEXT = (
    "The Temporal server cannot be reached right now, so tasks cannot be shown or "
    "decided. Nothing was changed. Try again in a minute."
)


class ErrorPages:
    def __init__(self, pages: Pages, auth: Authenticator) -> None:
        self._pages = pages
        self._auth = auth

    def handlers(self) -> dict[type[Exception], Handler]:
        """Starlette picks the most specific class, so the order here does not matter."""
        return {
            LoginRequired: self.login_required,
            PageError: self.page_error,
            UnknownTaskError: self.unknown_task,
            TemporalUnavailableError: self.outage,
            RPCError: self.outage,
            WorkerUnavailableError: self.slow_worker,
            RuntimeError: self.runtime_error,
            Exception: self.crash,
        }

    async def login_required(self, request: Request, exc: Exception) -> Response:
        context = {"configured": self._auth.login_configured, "error": ""}
        return self._pages.render(
            "login.html", context, status=401, headers={"WWW-Authenticate": "Bearer"}
        )

    async def page_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        return self._pages.message(exc.title, exc.text, status=exc.status)

    async def unknown_task(self, request: Request, exc: Exception) -> Response:
        return self._pages.message("No such task", str(exc), status=404)

    async def outage(self, request: Request, exc: Exception) -> Response:
        if isinstance(exc, RPCError) and exc.status not in OUTAGE_CODES:
            log.warning("temporal refused a request: %s", exc.message)
            return self._pages.message("Temporal refused the request", exc.message, status=502)
        log.warning("temporal unavailable: %s", exc)
        return self._pages.message("Temporal is unavailable", OUTAGE_TEXT, status=503)

    async def slow_worker(self, request: Request, exc: Exception) -> Response:
        return self._pages.message("The task's worker did not answer", str(exc), status=503)

    async def runtime_error(self, request: Request, exc: Exception) -> Response:
        # The SDK reports a client that cannot (re)connect as a plain RuntimeError.
        if str(exc).startswith("Failed client connect"):
            return await self.outage(request, exc)
        return await self.crash(request, exc)

    async def crash(self, request: Request, exc: Exception) -> Response:
        log.exception("inbox request failed", exc_info=exc)
        text = "Something went wrong on the inbox's side; it was logged. Nothing was changed."
        return self._pages.message("Internal error", text, status=500)
