"""A manager's flow in a real headless Chromium: notification → signed link → Approve → done.

The dev server and ``worker.py`` run as processes (the ``processes`` fixture); the inbox
runs in uvicorn on a free loopback port; the worker's notification goes to a loopback
webhook, and the approver's link is made for the gate that notification names.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from inbox import build_inbox_app
from inbox.settings import InboxSettings
from infra.connection import connect
from infra.settings import Settings
from tests.e2e.conftest import Processes, wait_until
from tests.support.fake_providers import FakeProviders, FakeToolCall, reply

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECRET = b"e2e-inbox-secret-0123456789abcdef"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium (apt-get install chromium)"
)


class Webhook:
    """A loopback JSON webhook that keeps what the worker's notify activity posts."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    thread = threading.Thread(target=hook.server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        hook.server.shutdown()
        hook.server.server_close()


@pytest.fixture
def inbox_url(processes: Processes) -> Iterator[str]:
    """The real inbox app in uvicorn, on a loopback port bound before the app is built."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    connection = Settings.from_env(processes.env)
    settings = InboxSettings(secret=SECRET, base_url=base_url, token="e2e-token")
    app = build_inbox_app(lambda: connect(connection), settings)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=10, what="the inbox to listen")
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_manager_opens_the_link_clicks_approve_and_the_task_completes(
    processes: Processes, e2e_providers: FakeProviders, webhook: Webhook, inbox_url: str
) -> None:
    model = f"inbox-{uuid.uuid4().hex[:8]}"
    e2e_providers.script(
        reply("Saving it.", [FakeToolCall("write_file", {"path": "summary.md", "content": "ok"})]),
        reply("Saved summary.md."),
        model=model,
    )
    processes.start_worker(
        {
            "TASKCRAFT_MODEL": f"openai:{model}",
            "TASKCRAFT_NOTIFY": "webhook",
            "TASKCRAFT_NOTIFY_URL": webhook.url,
            "TASKCRAFT_INBOX_URL": inbox_url,
            "TASKCRAFT_INBOX_SECRET": SECRET,
            "TASKCRAFT_INBOX_APPROVERS": "alice",
        }
    )
    task_id = f"inbox-e2e-{model}"
    started = processes.cli(
        "start", "workspace-analyst", "--goal", "save a summary", "--id", task_id
    )
    assert started.returncode == 0, started.stderr
    wait_until(lambda: bool(webhook.received), timeout=60, what="the gate notification")
    [notification] = webhook.received
    assert (notification["task_id"], notification["gate_id"]) == (task_id, "g1")
    # The link comes from the notification itself, signed by the worker.
    [link] = notification["links"]
    assert link["approver"] == "alice"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(link["approve_url"])
            assert page.locator("h2", has_text="Decide as alice").is_visible()
            assert "summary.md" in page.locator("#request").inner_text()
            page.get_by_role("button", name="Approve", exact=True).click()
            page.wait_for_load_state()
            assert page.locator("h1").inner_text() == "Approved"
            assert "approve recorded for gate g1 by alice" in page.locator("p.ok").inner_text()
            page.get_by_role("link", name="Back to the task").click()

            def shows_completed() -> bool:
                page.reload()
                return "COMPLETED" in page.locator("h1").inner_text()

            wait_until(shows_completed, timeout=60, what="the task page to show COMPLETED")
            assert "Gate g1 was already decided: approved by alice" in page.inner_text("#notice")
        finally:
            browser.close()

    status = processes.cli("status", task_id, "--json")
    state = json.loads(status.stdout)
    assert state["status"] == "COMPLETED"
    assert [(d["approver"], d["via"], d["applied"]) for d in state["decisions"]] == [
        ("alice", "update", True)
    ]
    assert (processes.folder / "workspace" / "summary.md").read_text() == "ok"
