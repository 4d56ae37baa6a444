"""The worker serves the SDK's Prometheus metrics and Taskcraft's own on one endpoint."""

from __future__ import annotations

import json
import socket
import uuid

import httpx

from tests.e2e.conftest import Processes, wait_until
from tests.support.fake_providers import FakeProviders, FakeToolCall, reply


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_metrics_endpoint_has_sdk_and_taskcraft_metrics(
    processes: Processes, e2e_providers: FakeProviders
) -> None:
    model = f"metrics-{uuid.uuid4().hex[:8]}"
    e2e_providers.script(
        reply("look", [FakeToolCall("list_files", {"path": "."}, id="m1")]),
        reply("done"),
        model=model,
    )
    port = _free_port()
    processes.start_worker(
        {"TASKCRAFT_MODEL": f"openai:{model}", "TASKCRAFT_METRICS_PORT": str(port)}
    )
    url = f"http://127.0.0.1:{port}/metrics"

    def scrape() -> str:
        try:
            return httpx.get(url, timeout=2).text
        except httpx.HTTPError:
            return ""

    wait_until(lambda: "taskcraft_tasks" in scrape(), timeout=30, what="metrics endpoint")
    task_id = f"metrics-{model}"
    started = processes.cli(
        "start", "workspace-analyst", "--goal", "list", "--id", task_id, "--wait"
    )
    assert started.returncode == 0, started.stderr
    status = json.loads(processes.cli("status", task_id, "--json").stdout)
    assert status["status"] == "COMPLETED"
    wait_until(lambda: 'tool="list_files"' in scrape(), timeout=15, what="tool metric")
    text = scrape()
    assert (
        "temporal_workflow_completed" in text or "temporal_workflow_task_execution_latency" in text
    )
    tool_lines = [line for line in text.splitlines() if line.startswith("taskcraft_tool_calls")]
    assert any(
        'tool="list_files"' in line and 'outcome="ok"' in line and line.endswith(" 1")
        for line in tool_lines
    ), tool_lines
    assert any(
        line.startswith("taskcraft_tasks{") and 'status="RUNNING"' in line
        for line in text.splitlines()
    )
