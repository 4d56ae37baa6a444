"""Where a task can be seen: its page in the Temporal UI."""

from __future__ import annotations

from urllib.parse import quote


def task_ui_url(ui_url: str, namespace: str, task_id: str) -> str:
    return f"{ui_url.rstrip('/')}/namespaces/{quote(namespace)}/workflows/{quote(task_id, safe='')}"
