"""The Slack message for a gate: the proposal, and Approve / Reject link buttons.

Block Kit URL buttons only open the link (a GET), and the inbox never changes anything
on a GET: the approver lands on the gate's page, sees the request in full and confirms
there. So link previews and scanners that fetch URLs cannot decide a gate.

Each approver gets their own pair of buttons, because each link records who decided.
Anyone who can read the channel can open any of them: post to a channel only the
approvers read (or to each approver directly).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from taskcraft.approval_links import GateLinks

# Block Kit limits (https://api.slack.com/reference/block-kit/blocks).
MAX_HEADER_CHARS = 150
MAX_SECTION_CHARS = 3000
MAX_BUTTON_TEXT_CHARS = 75
MAX_ACTIONS_ELEMENTS = 25
# Approve and Reject per approver: 12 approvers fill one actions block.
APPROVERS_PER_ACTIONS_BLOCK = MAX_ACTIONS_ELEMENTS // 2


def escape(text: str) -> str:
    """Slack's mrkdwn treats &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _button(label: str, url: str, action_id: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": _cut(label, MAX_BUTTON_TEXT_CHARS)},
        "url": url,
        "action_id": action_id,
    }
    if style is not None:
        button["style"] = style
    return button


def gate_message(
    *,
    task_id: str,
    agent: str,
    title: str,
    summary: str,
    approvers: Sequence[str],
    escalation: bool,
    links: GateLinks,
    ui_url: str,
) -> dict[str, Any]:
    """The webhook body: ``text`` (the notification and fallback) and ``blocks``."""
    prefix = "ESCALATED: " if escalation else ""
    who = ", ".join(approvers) or "any operator"
    text = (
        f"{prefix}Task {task_id} ({agent}) waits for approval: {title}\n{summary}\n"
        f"Who may decide: {who}\n{links.as_text()}"
    )
    proposal = escape(_cut(summary, MAX_SECTION_CHARS - 200))
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _cut(f"{prefix}Approval needed: {title}", MAX_HEADER_CHARS),
            },
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*Task* `{escape(task_id)}` · *agent* `{escape(agent)}`\n```{proposal}```",
            },
        },
    ]
    expiry = (
        f" · links expire {links.links[0].expires_at:%Y-%m-%d %H:%M} UTC" if links.links else ""
    )
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": escape(f"Who may decide: {who}{expiry}")}],
        }
    )
    for start in range(0, len(links.links), APPROVERS_PER_ACTIONS_BLOCK):
        chunk = links.links[start : start + APPROVERS_PER_ACTIONS_BLOCK]
        elements = []
        for offset, link in enumerate(chunk):
            index = start + offset
            elements.append(
                _button(
                    f"Approve as {link.approver}", link.approve_url, f"approve-{index}", "primary"
                )
            )
            elements.append(
                _button(f"Reject as {link.approver}", link.reject_url, f"reject-{index}", "danger")
            )
        blocks.append({"type": "actions", "elements": elements})
    blocks.append(
        {
            "type": "actions",
            "elements": [
                _button("Open in the inbox", links.task_url, "open-inbox"),
                _button("Temporal UI", ui_url, "open-temporal-ui"),
            ],
        }
    )
    return {"text": text, "blocks": blocks}
