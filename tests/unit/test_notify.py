"""Gate notifications over each channel, against loopback servers speaking the wire format."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import structlog
from temporalio.testing import ActivityEnvironment

from activities.notify import NotifyActivities, NotifySettings, render_notification
from taskcraft.calls import NotifyInput
from tests.support.fake_services import FakeServices, running_fake_services

UI_PAGE = "https://temporal.example.com/namespaces/prod/workflows/writer-1a2b"
GATE = NotifyInput(
    task_id="writer-1a2b",
    agent="writer",
    gate_id="g1",
    title="run write_file",
    summary="write_file({'path': 'out.txt'}) — writes need a person",
    approvers=["alice", "bob"],
)
ENV = {"TASKCRAFT_UI_URL": "https://temporal.example.com/", "TEMPORAL_NAMESPACE": "prod"}


@dataclass
class Webhook:
    """A generic JSON webhook receiver that answers ``status`` and keeps what it got."""

    url: str = ""
    status: int = 204
    posts: list[dict[str, Any]] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            hook.posts.append(json.loads(body))
            hook.content_types.append(self.headers.get("Content-Type", ""))
            self.send_response(hook.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/taskcraft"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def slack() -> Iterator[FakeServices]:
    with running_fake_services() as services:
        yield services


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


async def notify(http: httpx.AsyncClient, env: dict[str, str], inp: NotifyInput = GATE) -> str:
    activities = NotifyActivities(http=http, settings=NotifySettings.from_env({**ENV, **env}))
    result: str = await ActivityEnvironment().run(activities.notify, inp)
    return result


async def test_slack_webhook_gets_text_with_the_commands_and_the_ui_page(
    http: httpx.AsyncClient, slack: FakeServices
) -> None:
    """Slack incoming webhooks take ``{"text": ...}``: proposal, who, commands, UI link."""
    url = slack.url("/slack/webhook/T000/B000/secret")
    channel = await notify(http, {"TASKCRAFT_NOTIFY": "slack", "TASKCRAFT_NOTIFY_URL": url})
    assert channel == "slack"
    [post] = slack.webhook_posts
    lines = post["text"].splitlines()  # the text every Slack client shows
    assert lines[0] == "Task writer-1a2b (writer) waits for approval: run write_file"
    for line in (
        "write_file({'path': 'out.txt'}) — writes need a person",
        "Who may decide: alice, bob",
        "Approve: taskcraft approve writer-1a2b --gate g1",
        'Reject:  taskcraft reject writer-1a2b --gate g1 --reason "..."',
        f"Temporal UI: {UI_PAGE}",
    ):
        assert line in lines
    assert "approve_command" not in post  # Slack gets its own shape, not the generic JSON


async def test_generic_webhook_gets_the_structured_message(
    http: httpx.AsyncClient, webhook: Webhook
) -> None:
    """A JSON webhook gets every field a receiver needs to build its own message."""
    channel = await notify(
        http, {"TASKCRAFT_NOTIFY": "webhook", "TASKCRAFT_NOTIFY_URL": webhook.url}
    )
    assert channel == "webhook"
    [post] = webhook.posts
    assert webhook.content_types == ["application/json"]
    assert post["approve_command"] == "taskcraft approve writer-1a2b --gate g1"
    assert post["reject_command"] == 'taskcraft reject writer-1a2b --gate g1 --reason "..."'
    assert post["ui_url"] == UI_PAGE
    assert (post["task_id"], post["gate_id"], post["agent"]) == ("writer-1a2b", "g1", "writer")
    assert post["approvers"] == ["alice", "bob"]
    assert post["escalation"] is False
    assert post["text"] == render_notification(GATE, NotifySettings.from_env(ENV))["text"]


async def test_escalation_is_marked_and_names_the_second_audience(
    http: httpx.AsyncClient, webhook: Webhook
) -> None:
    escalated = GATE.model_copy(update={"approvers": ["boss"], "escalation": True})
    await notify(
        http, {"TASKCRAFT_NOTIFY": "webhook", "TASKCRAFT_NOTIFY_URL": webhook.url}, escalated
    )
    [post] = webhook.posts
    assert post["escalation"] is True
    assert post["text"].startswith("ESCALATED: Task writer-1a2b (writer) waits for approval")
    assert "Who may decide: boss" in post["text"]


async def test_a_refusing_webhook_fails_the_activity_so_temporal_retries_it(
    http: httpx.AsyncClient, webhook: Webhook
) -> None:
    """A 5xx is an error (Temporal retries it, bounded); it is not reported as delivered."""
    webhook.status = 503
    with pytest.raises(httpx.HTTPStatusError, match="503"):
        await notify(http, {"TASKCRAFT_NOTIFY": "webhook", "TASKCRAFT_NOTIFY_URL": webhook.url})
    assert len(webhook.posts) == 1


async def test_log_channel_writes_one_warning_with_the_message(http: httpx.AsyncClient) -> None:
    """The default channel: a ``gate.waiting`` warning carrying the same fields, no HTTP."""
    with structlog.testing.capture_logs() as logs:
        channel = await notify(http, {})
    assert channel == "log"
    [event] = [entry for entry in logs if entry["event"] == "gate.waiting"]
    assert event["log_level"] == "warning"
    assert event["approve_command"] == "taskcraft approve writer-1a2b --gate g1"
    assert event["ui_url"] == UI_PAGE
    assert event["gate_id"] == "g1"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TASKCRAFT_NOTIFY": "email"}, "TASKCRAFT_NOTIFY must be log, slack or webhook"),
        ({"TASKCRAFT_NOTIFY": "slack"}, "TASKCRAFT_NOTIFY=slack needs TASKCRAFT_NOTIFY_URL"),
        ({"TASKCRAFT_NOTIFY": "webhook"}, "TASKCRAFT_NOTIFY=webhook needs TASKCRAFT_NOTIFY_URL"),
    ],
)
def test_bad_notify_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NotifySettings.from_env(env)
