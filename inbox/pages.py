"""Rendering: the Jinja2 environment, its filters, and the few helpers every page shares.

Templates are plain server-rendered HTML (no JavaScript), autoescaped. Every response
carries headers that keep signed links out of Referer headers and pages out of caches
and frames.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from starlette.responses import HTMLResponse, RedirectResponse, Response

from taskcraft.policy.view import render_call_view
from taskcraft.timefmt import human_time, relative, span

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

SECURITY_HEADERS = {
    # Only inline styles; no scripts at all; forms post only to the inbox itself.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    # Links carry signatures: never send them to another site (the Temporal UI link).
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def when(value: datetime | None) -> str:
    """A moment as a person reads it; the page cannot know the reader's zone, so UTC."""
    return "-" if value is None else human_time(value, now=datetime.now(UTC), tz=UTC)


def ago(value: datetime | None) -> str:
    """How long ago, without the word: "3 minutes"."""
    if value is None:
        return "-"
    return span((datetime.now(UTC) - value).total_seconds())


def until(value: datetime | None) -> str:
    """How far off: "in 23 hours", or "5 minutes ago" once passed."""
    return "-" if value is None else relative(value, now=datetime.now(UTC))


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def as_text(value: Any) -> str:
    """An argument as a person reads it: text as it is, anything else as JSON."""
    return value if isinstance(value, str) else pretty_json(value)


def build_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when,
        ago=ago,
        until=until,
        pretty_json=pretty_json,
        as_text=as_text,
        policy_view=lambda view: "\n".join(render_call_view(view)),
    )
    return env


class Pages:
    def __init__(self) -> None:
        self._env = build_environment()

    def render(
        self,
        name: str,
        context: Mapping[str, Any],
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        html = self._env.get_template(name).render(**context)
        return HTMLResponse(
            html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})}
        )

    def message(self, title: str, text: str, *, status: int, back: str | None = None) -> Response:
        """A page that only says something: an outcome, a refused link, an outage."""
        context = {"title": title, "text": text, "back": back, "status": status}
        return self.render("message.html", context, status=status)


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


def form_text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""
