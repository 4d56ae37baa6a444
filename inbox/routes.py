"""The pages a manager uses: the list of waiting tasks, a task, a gate, and a decision."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from inbox.auth import Authenticator, PageError, Principal
from inbox.csrf import csrf_token, csrf_valid, same_origin
from inbox.pages import Pages
from inbox.settings import InboxSettings
from inbox.tasks import TemporalAccess
from inbox.views import KIND_TITLES, DecisionForm, parse_decision, task_context
from taskcraft.approval_links import gate_path

LOGOUT_SCOPE = "logout"
FORM_REFUSED = (
    "This form could not be verified (it did not come from this page, or the page is "
    "stale). Nothing was changed; open the link again and decide there."
)


def logout_csrf(settings: InboxSettings, principal: Principal) -> str:
    """The token every page's sign-out form carries."""
    return csrf_token(settings.secret, principal.binding, LOGOUT_SCOPE)


class TaskPages:
    """Reads through ``TemporalAccess``; decides only with a CSRF token bound to the gate."""

    def __init__(
        self,
        temporal: TemporalAccess,
        settings: InboxSettings,
        auth: Authenticator,
        pages: Pages,
        own_origin: str,
    ) -> None:
        self._temporal = temporal
        self._settings = settings
        self._auth = auth
        self._pages = pages
        self._own_origin = own_origin

    async def inbox(self, request: Request) -> Response:
        principal = self._auth.require_login(request)
        rows, truncated = await self._temporal.awaiting()
        context = {
            "rows": rows,
            "truncated": truncated,
            "principal": principal,
            "logout_csrf": logout_csrf(self._settings, principal),
        }
        return self._pages.render("inbox.html", context)

    async def task(self, request: Request) -> Response:
        principal = self._auth.require_login(request)
        return await self._render(principal, request.path_params["task_id"], None)

    async def gate(self, request: Request) -> Response:
        principal = self._auth.for_gate(request, None)
        task_id, gate_id = request.path_params["task_id"], request.path_params["gate_id"]
        focus = request.query_params.get("do", "")
        return await self._render(principal, task_id, gate_id, focus=focus)

    async def decide(self, request: Request) -> Response:
        task_id, gate_id = request.path_params["task_id"], request.path_params["gate_id"]
        raw_form = await request.form()
        form = {key: value for key, value in raw_form.items() if isinstance(value, str)}
        principal = self._auth.for_gate(request, form)
        if principal.via != "bearer" and not self._form_is_ours(
            request, principal, form.get("csrf", ""), task_id, gate_id
        ):
            raise PageError(403, "Form refused", FORM_REFUSED)
        decision_form = parse_decision(form, approver=principal.name, gate_id=gate_id)
        if decision_form.error or decision_form.decision is None:
            return await self._render(principal, task_id, gate_id, status=422, form=decision_form)
        result = await self._temporal.decide(task_id, decision_form.decision)
        if result.outcome is None:
            refused = decision_form.with_error(result.refusal or "refused")
            return await self._render(principal, task_id, gate_id, status=409, form=refused)
        back = gate_path(task_id, gate_id)
        if principal.link_fields:
            back += "?" + urlencode(principal.link_fields)
        return self._pages.message(
            KIND_TITLES[decision_form.decision.kind],
            f"{result.outcome.message}. The task continues.",
            status=200,
            back=back,
        )

    def _form_is_ours(
        self, request: Request, principal: Principal, token: str, task_id: str, gate_id: str
    ) -> bool:
        return same_origin(request.headers, self._own_origin) and csrf_valid(
            self._settings.secret, principal.binding, token, task_id, gate_id
        )

    async def _render(
        self,
        principal: Principal,
        task_id: str,
        gate_id: str | None,
        *,
        status: int = 200,
        form: DecisionForm | None = None,
        focus: str = "",
    ) -> Response:
        runs, worker_note = await self._temporal.all_runs(task_id)
        client = (await self._temporal.client()).temporal
        context = task_context(
            runs,
            gate_id=gate_id,
            principal_name=principal.name,
            ui_url=self._settings.ui_url,
            namespace=client.namespace,
            form=form,
            focus=focus,
        )
        gate = context["gate_id"]
        if gate is not None:
            context["decide_url"] = gate_path(task_id, gate) + "/decide"
            context["csrf"] = csrf_token(self._settings.secret, principal.binding, task_id, gate)
        context.update(
            principal=principal,
            logout_csrf=logout_csrf(self._settings, principal),
            worker_note=worker_note,
        )
        return self._pages.render("task.html", context, status=status)
