"""What the policy understood of a call, for the person asked to decide it.

``CallView`` is small on purpose: it travels in workflow history with every gate. It
lists the programs a shell command runs (as parsed), the paths and hosts it touches,
the SQL statements and what each does, and the rule that decided. ``render_call_view``
turns it into lines for the CLI, the task's "current details" and the inbox alike.
Credentials in what it shows are masked (``taskcraft.redact``), as in the audit trail.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from taskcraft.policy import paths, shell, sql, urls
from taskcraft.policy.context import PolicyContext
from taskcraft.policy.secret_paths import secret_location
from taskcraft.redact import redact_text

MAX_ITEMS = 12
MAX_CHARS = 200


class CallView(BaseModel):
    rule: str = ""  # "shell-other → require_approval: <what the rule's conditions found>"
    programs: list[str] = Field(default_factory=list)  # shell commands as parsed, in order
    paths: list[str] = Field(default_factory=list)  # with "(inside)", "(outside: why)"...
    hosts: list[str] = Field(default_factory=list)  # with "(private: why)" when it may be
    statements: list[str] = Field(default_factory=list)  # "DELETE (write): DELETE FROM t ..."
    notes: list[str] = Field(default_factory=list)  # what the classifiers found


def render_call_view(view: CallView) -> list[str]:
    """Plain lines: one heading per kind of thing the policy saw, items indented below."""
    lines: list[str] = []
    if view.rule:
        lines.append(f"Rule: {view.rule}")
    for title, items in (
        ("Programs", view.programs),
        ("Paths", view.paths),
        ("Hosts", view.hosts),
        ("SQL", view.statements),
        ("Found", view.notes),
    ):
        if items:
            lines.append(f"{title}:")
            lines.extend(f"  {item}" for item in items)
    return lines


def build_view(
    rule: str,
    arguments: Mapping[str, Any],
    analyses: list[tuple[str, str]],
    context: PolicyContext,
) -> CallView:
    """The view of a call from the arguments the checked rules parsed, as they parsed them."""
    view = CallView(rule=_clip(redact_text(rule)))
    for kind, arg in dict.fromkeys(analyses):
        value = arguments.get(arg)
        if not isinstance(value, str):
            continue
        if kind == "shell":
            _shell(view, value, context)
        elif kind == "sql":
            view.statements += sql.describe(value)
        elif kind == "path":
            view.paths.append(_path(value, context))
        elif kind == "url":
            view.hosts.append(_host(value))
    for name in ("programs", "paths", "hosts", "statements", "notes"):
        items = [_clip(redact_text(item)) for item in dict.fromkeys(getattr(view, name))]
        if len(items) > MAX_ITEMS:
            items = [*items[: MAX_ITEMS - 1], f"... and {len(items) - MAX_ITEMS + 1} more"]
        setattr(view, name, items)
    return view


def _shell(view: CallView, command: str, context: PolicyContext) -> None:
    analysis = shell.describe(command, context)
    if analysis.error:
        view.notes.append(analysis.error)
        return
    view.programs += analysis.programs
    view.paths += [
        _path(p, context) if not p.startswith(("<", ">", "&")) else p for p in analysis.paths
    ]
    view.hosts += analysis.hosts
    for label, why in (
        ("destructive", analysis.destructive),
        ("downloads and runs", analysis.download_run),
        ("reads secrets", analysis.secrets),
        ("sends data out", analysis.sends_out),
        ("runs hidden code", analysis.hidden_code),
    ):
        if why:
            view.notes.append(f"{label}: {why}")
    view.notes.append(
        "read-only"
        if analysis.not_read_only is None
        else f"not read-only: {analysis.not_read_only}"
    )


def _path(path: str, context: PolicyContext) -> str:
    why = paths.why_outside(path, context.workspace_root)
    secret = secret_location(path)
    shown = repr(path) if not path.isprintable() else path
    if why:
        return f"{shown} (outside: {why})"
    return f"{shown} (inside{', may hold ' + secret if secret else ''})"


def _host(url: str) -> str:
    host = urls.split_host(url)
    if host is None:
        return f"{url[:80]} (no host can be read)"
    private = urls.private_host(host)
    usable = urls.url_host(url) is not None
    notes = [f"private: {private}"] if private else []
    if not usable:
        notes.append("not a plain http(s) URL")
    return f"{host}" + (f" ({'; '.join(notes)})" if notes else "")


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"
