"""The Slack gate message (Block Kit URL buttons), posted to a loopback incoming webhook.

The loopback webhook answers like Slack's: ``200 ok`` for a message it would show,
``400 invalid_blocks`` for one that breaks a Block Kit limit (text lengths, element
counts, duplicate action ids, non-URL buttons), ``400 no_text`` without fallback text.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from activities.slack_blocks import gate_message
from taskcraft.approval_links import LinkSettings, gate_links, verify_link

SETTINGS = LinkSettings(secret=b"slack-test-secret-0123456789abcdef", base_url="https://inbox.ex")
EXPIRES = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
UI_URL = "http://localhost:8233/namespaces/default/workflows/t-1"


def block_kit_problem(body: dict[str, Any]) -> str | None:
    """What Slack would refuse in this message, or None."""
    if not body.get("text"):
        return "no_text"
    blocks = body.get("blocks", [])
    action_ids: list[str] = []
    if len(blocks) > 50:
        return "invalid_blocks"
    for block in blocks:
        kind = block["type"]
        if kind == "header" and len(block["text"]["text"]) > 150:
            return "invalid_blocks"
        if kind == "section" and len(block["text"]["text"]) > 3000:
            return "invalid_blocks"
        if kind == "context" and len(block["elements"]) > 10:
            return "invalid_blocks"
        if kind == "actions":
            if len(block["elements"]) > 25:
                return "invalid_blocks"
            for button in block["elements"]:
                ok = (
                    button["type"] == "button"
                    and button["text"]["type"] == "plain_text"
                    and 0 < len(button["text"]["text"]) <= 75
                    and button["url"].startswith(("http://", "https://"))
                    and len(button["url"]) <= 3000
                    and len(button["action_id"]) <= 255
                    and button.get("style", "primary") in ("primary", "danger")
                )
                if not ok:
                    return "invalid_blocks"
                action_ids.append(button["action_id"])
    return "invalid_blocks" if len(action_ids) != len(set(action_ids)) else None


class FakeSlackWebhook:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.received.append(body)
                problem = block_kit_problem(body)
                answer = (problem or "ok").encode()
                self.send_response(400 if problem else 200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T0/B0/x"


@pytest.fixture
def slack() -> Iterator[FakeSlackWebhook]:
    fake = FakeSlackWebhook()
    thread = threading.Thread(target=fake.server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


def message(approvers: list[str], summary: str = "write_file(out.txt) — needs a person") -> Any:
    links = gate_links(
        SETTINGS, task_id="t-1", gate_id="g1", approvers=approvers, timeout_at=EXPIRES
    )
    return gate_message(
        task_id="t-1",
        agent="writer",
        title="run write_file",
        summary=summary,
        approvers=approvers,
        escalation=False,
        links=links,
        ui_url=UI_URL,
    )


def post(slack: FakeSlackWebhook, body: Any) -> httpx.Response:
    return httpx.post(slack.url, json=body, timeout=5)


def test_gate_message_has_signed_approve_and_reject_buttons_per_approver(
    slack: FakeSlackWebhook,
) -> None:
    response = post(slack, message(["alice", "bob"]))
    assert (response.status_code, response.text) == (200, "ok")
    [body] = slack.received
    header, section, context, approvers, links = body["blocks"]
    assert header["text"]["text"] == "Approval needed: run write_file"
    assert "```write_file(out.txt) — needs a person```" in section["text"]["text"]
    assert context["elements"][0]["text"] == (
        "Who may decide: alice, bob · links expire 2030-01-02 03:04 UTC"
    )
    buttons = [(b["text"]["text"], b.get("style")) for b in approvers["elements"]]
    assert buttons == [
        ("Approve as alice", "primary"),
        ("Reject as alice", "danger"),
        ("Approve as bob", "primary"),
        ("Reject as bob", "danger"),
    ]
    for button in approvers["elements"]:
        url = urlsplit(button["url"])
        assert url.path == "/tasks/t-1/gates/g1"
        query = dict(parse_qsl(url.query))
        assert query["do"] == button["action_id"].split("-")[0]
        verify_link(
            SETTINGS.secret,
            "t-1",
            "g1",
            query["as"],
            EXPIRES,
            query["sig"],
            now=EXPIRES.replace(year=2029),
        )
    assert [b["url"] for b in links["elements"]] == ["https://inbox.ex/tasks/t-1", UI_URL]
    assert "Decide as alice: https://inbox.ex/tasks/t-1/gates/g1?as=alice" in body["text"]


def test_thirteen_approvers_split_into_two_actions_blocks(slack: FakeSlackWebhook) -> None:
    names = [f"approver-{n}" for n in range(13)]
    response = post(slack, message(names))
    assert response.text == "ok"
    actions = [b for b in slack.received[0]["blocks"] if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions] == [24, 2, 2]


def test_long_names_and_summaries_are_cut_to_block_kit_limits(slack: FakeSlackWebhook) -> None:
    response = post(slack, message(["a" * 120], summary="x" * 10_000))
    assert response.text == "ok"
    button = slack.received[0]["blocks"][3]["elements"][0]
    assert len(button["text"]["text"]) == 75
    assert button["text"]["text"].endswith("…")


def test_mrkdwn_control_characters_are_escaped() -> None:
    body = message(["alice"], summary="<!channel> rm -rf & <http://evil|click>")
    section = body["blocks"][1]["text"]["text"]
    assert "&lt;!channel&gt; rm -rf &amp; &lt;http://evil|click&gt;" in section
    assert "<!channel>" not in section


def test_fake_webhook_refuses_what_slack_refuses(slack: FakeSlackWebhook) -> None:
    """The loopback is strict enough for the tests above to fail on a broken message."""
    body = message(["alice"])
    body["blocks"][3]["elements"][0]["text"]["text"] = "x" * 76
    refused = post(slack, body)
    assert (refused.status_code, refused.text) == (400, "invalid_blocks")
    assert post(slack, {"blocks": []}).text == "no_text"


def test_no_approvers_means_no_approver_buttons_but_the_inbox_link() -> None:
    body = message([])
    actions = [b for b in body["blocks"] if b["type"] == "actions"]
    assert [[e["action_id"] for e in b["elements"]] for b in actions] == [
        ["open-inbox", "open-temporal-ui"]
    ]
    assert "Who may decide: any operator" in body["text"]
