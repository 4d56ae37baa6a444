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
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 48 * 3600:
        hours, rest = divmod(int(seconds), 3600)
        return f"{hours} h {rest // 60} min"
    return f"{int(seconds // 86400)} days"


def ago(value: datetime | None) -> str:
    if value is None:
        return "-"
    return duration((datetime.now(UTC) - value).total_seconds())


def until(value: datetime | None) -> str:
    if value is None:
        return "-"
    left = (value - datetime.now(UTC)).total_seconds()
    return f"in {duration(left)}" if left >= 0 else f"{duration(left)} ago"


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
    env.filters.update(when=when, ago=ago, until=until, pretty_json=pretty_json, as_text=as_text)
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
