"""Telling a human that a task waits for them: the log, a Slack webhook, or a JSON webhook.

The workflow starts this activity and does not wait for it, so a slow or failing channel
never holds a gate; Temporal retries delivery a bounded number of times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from temporalio import activity

from activities.log_context import activity_log_context
from activities.slack_blocks import gate_message
from taskcraft.approval_links import GateLinks, LinkSettings, gate_links
from taskcraft.calls import NOTIFY_ACTIVITY, NotifyInput
from taskcraft.links import task_ui_url


@dataclass(frozen=True)
class NotifySettings:
    channel: str  # "log", "slack" or "webhook"
    url: str | None
    ui_url: str
    namespace: str
    # Set when TASKCRAFT_INBOX_URL is: notifications then carry signed approval links.
    inbox: LinkSettings | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> NotifySettings:
        channel = env.get("TASKCRAFT_NOTIFY", "log")
        url = env.get("TASKCRAFT_NOTIFY_URL")
        if channel not in ("log", "slack", "webhook"):
            raise ValueError(f"TASKCRAFT_NOTIFY must be log, slack or webhook, not {channel!r}")
        if channel != "log" and not url:
            raise ValueError(f"TASKCRAFT_NOTIFY={channel} needs TASKCRAFT_NOTIFY_URL")
        return cls(
            channel=channel,
            url=url,
            ui_url=env.get("TASKCRAFT_UI_URL", "http://localhost:8233").rstrip("/"),
            namespace=env.get("TEMPORAL_NAMESPACE", "default"),
            inbox=LinkSettings.for_notifications(env),
        )


def links_for(inp: NotifyInput, settings: NotifySettings) -> GateLinks | None:
    if settings.inbox is None:
        return None
    return gate_links(
        settings.inbox,
        task_id=inp.task_id,
        gate_id=inp.gate_id,
        approvers=inp.approvers,
        timeout_at=inp.timeout_at,
    )


def render_notification(
    inp: NotifyInput, settings: NotifySettings, links: GateLinks | None = None
) -> dict[str, object]:
    """The message every channel carries: what is proposed, how to answer, where to look."""
    approve = f"taskcraft approve {inp.task_id} --gate {inp.gate_id}"
    reject = f'taskcraft reject {inp.task_id} --gate {inp.gate_id} --reason "..."'
    who = ", ".join(inp.approvers) if inp.approvers else "any operator"
    prefix = "ESCALATED: " if inp.escalation else ""
    text = (
        f"{prefix}Task {inp.task_id} ({inp.agent}) waits for approval: {inp.title}\n"
        f"{inp.summary}\n"
        f"Who may decide: {who}\n"
        f"Approve: {approve}\nReject:  {reject}\n"
        f"Temporal UI: {task_ui_url(settings.ui_url, settings.namespace, inp.task_id)}"
    )
    if links is not None:
        text += "\n" + links.as_text()
    return {
        "links": links.as_json() if links is not None else [],
        "inbox_url": links.task_url if links is not None else None,
        "task_id": inp.task_id,
        "gate_id": inp.gate_id,
        "agent": inp.agent,
        "title": inp.title,
        "summary": inp.summary,
        "approvers": inp.approvers,
        "escalation": inp.escalation,
        "approve_command": approve,
        "reject_command": reject,
        "ui_url": task_ui_url(settings.ui_url, settings.namespace, inp.task_id),
        "text": text,
    }


class NotifyActivities:
    def __init__(self, *, http: httpx.AsyncClient, settings: NotifySettings) -> None:
        self._http = http
        self._settings = settings

    @activity.defn(name=NOTIFY_ACTIVITY)
    async def notify(self, inp: NotifyInput) -> str:
        links = links_for(inp, self._settings)
        message = render_notification(inp, self._settings, links)
        with activity_log_context(gate_id=inp.gate_id) as log:
            if self._settings.channel == "log" or self._settings.url is None:
                log.warning("gate.waiting", **message)
                return "log"
            body: dict[str, object] = message
            if self._settings.channel == "slack":
                body = {"text": message["text"]}
                if links is not None:
                    body = gate_message(
                        task_id=inp.task_id,
                        agent=inp.agent,
                        title=inp.title,
                        summary=inp.summary,
                        approvers=inp.approvers,
                        escalation=inp.escalation,
                        links=links,
                        ui_url=str(message["ui_url"]),
                    )
            response = await self._http.post(self._settings.url, json=body, timeout=10.0)
            response.raise_for_status()
            log.info("gate.notified", channel=self._settings.channel, status=response.status_code)
            return self._settings.channel
