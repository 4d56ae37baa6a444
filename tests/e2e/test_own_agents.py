"""A team's own agent on Taskcraft, as processes: an agent file, a Python tool, an MCP server.

The agent is the README guide's example (``examples/guide``), loaded only from its
folder (``TASKCRAFT_AGENTS``): its Python tool module and its MCP server (written with
the official SDK's server API) are what a team would write. A policy rule gates one
MCP tool; the worker is killed at that gate and a new one started, whose MCP server
offers one more tool, and the task keeps the tool list it pinned at its start. Then the
same over streamable HTTP, with a token from the worker's environment.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import PROJECT_ROOT, Processes, wait_until
from tests.support.fake_providers import FakeProviders, FakeToolCall, reply

GUIDE = PROJECT_ROOT / "examples" / "guide"
NOTE = {"title": "Deploys", "text": "Deploy on Tuesdays; never on Fridays."}


def _script(providers: FakeProviders, model: str) -> None:
    """What the model does: search, count, file a note (wire names: '.' becomes '__')."""
    providers.script(
        reply("Searching first.", [FakeToolCall("notes__search", {"query": "deploy"}, id="c1")]),
        reply("Counting.", [FakeToolCall("word_count", {"text": NOTE["text"]}, id="c2")]),
        reply("Filing it.", [FakeToolCall("notes__add", NOTE, id="c3")]),
        reply("Filed the note 'Deploys'."),
        model=model,
    )


def _status(processes: Processes, task_id: str) -> dict[str, Any]:
    shown = processes.cli("status", task_id, "--json")
    assert shown.returncode == 0, shown.stderr
    data: dict[str, Any] = json.loads(shown.stdout)
    return data


def _offered_tools(providers: FakeProviders, model: str) -> list[list[str]]:
    """The tool names the model was offered, request by request."""
    return [
        sorted(tool["function"]["name"] for tool in request.body.get("tools", []))
        for request in providers.requests(model=model)
    ]


def _run_to_the_gate_restart_and_approve(
    processes: Processes, providers: FakeProviders, model: str, worker_env: dict[str, str]
) -> str:
    task_id = f"notes-{uuid.uuid4().hex[:6]}"
    processes.start_worker(worker_env)
    started = processes.cli("start", "notes-keeper", "--input", "topic=deploys", "--id", task_id)
    assert started.returncode == 0, started.stderr
    wait_until(
        lambda: _status(processes, task_id)["status"] == "AWAITING_APPROVAL",
        timeout=90,
        what="the gate on notes.add",
    )
    waiting = _status(processes, task_id)
    assert waiting["pending"]["tool"] == "notes.add"
    assert waiting["pending"]["approvers"] == ["alice"]
    # The worker dies at the gate; the next one's server offers one more tool.
    processes.kill(processes.workers[-1])
    processes.start_worker({**worker_env, "NOTES_ADMIN_TOOLS": "1"})
    refused = processes.cli("approve", task_id, "--as", "bob")
    assert refused.returncode == 2
    assert "'bob' may not decide gate g1 (allowed: alice)" in refused.stderr
    approved = processes.cli("approve", task_id, "--as", "alice")
    assert approved.returncode == 0, approved.stderr
    wait_until(
        lambda: _status(processes, task_id)["status"] == "COMPLETED", timeout=90, what="the end"
    )
    return task_id


def _assert_pinned_and_governed(
    processes: Processes, providers: FakeProviders, model: str, task_id: str, notes: Path
) -> None:
    state = _status(processes, task_id)
    assert state["result"] == "Filed the note 'Deploys'."
    calls = [(c["name"], c["outcome"]) for s in state["steps"] for c in s["tool_calls"]]
    assert calls == [("notes.search", "ok"), ("word_count", "ok"), ("notes.add", "ok")]
    assert [json.loads(line) for line in notes.read_text().splitlines()] == [NOTE]
    pinned = ["notes__add", "notes__search", "word_count"]
    assert _offered_tools(providers, model) == [pinned] * 4  # never notes__delete_all
    audit = processes.cli("audit", task_id, "--json")
    rules = [(d["tool"], d["rule_id"], d["effect"]) for d in json.loads(audit.stdout)["decisions"]]
    assert rules == [
        ("notes.search", "search-notes", "allow"),
        ("word_count", "count-words", "allow"),
        ("notes.add", "file-notes-need-approval", "require_approval"),
    ]


@pytest.fixture
def notes(processes: Processes) -> Path:
    return processes.folder / "notes.jsonl"


def test_guide_agent_over_stdio_survives_a_killed_worker_with_its_pinned_tools(
    processes: Processes, e2e_providers: FakeProviders, notes: Path
) -> None:
    model = f"guide-{uuid.uuid4().hex[:8]}"
    _script(e2e_providers, model)
    processes.env |= {"TASKCRAFT_AGENTS": str(GUIDE), "NOTES_FILE": str(notes)}
    task_id = _run_to_the_gate_restart_and_approve(
        processes, e2e_providers, model, {"TASKCRAFT_MODEL": f"openai:{model}"}
    )
    _assert_pinned_and_governed(processes, e2e_providers, model, task_id, notes)


@pytest.fixture
def http_guide(processes: Processes, notes: Path) -> Iterator[Path]:
    """The guide's folder, its server reached over streamable HTTP with a bearer token."""
    folder = processes.folder / "guide-http"
    shutil.copytree(GUIDE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    server = subprocess.Popen(
        [sys.executable, "notes_server.py", "--http", "--port", "0"],
        cwd=folder,
        env={**processes.env, "NOTES_FILE": str(notes), "NOTES_TOKEN": "s3cret"},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip().removeprefix("MCP_URL=")
        settings = (folder / "taskcraft.toml").read_text()
        stdio = settings[settings.index("[mcp_servers.notes]") :]
        (folder / "taskcraft.toml").write_text(
            settings.replace(
                stdio,
                f'[mcp_servers.notes]\nurl = "{url}"\n'
                'headers = { Authorization = "Bearer ${NOTES_TOKEN}" }\n',
            )
        )
        yield folder
    finally:
        server.terminate()
        server.wait(10)


def test_guide_agent_over_streamable_http(
    processes: Processes, e2e_providers: FakeProviders, notes: Path, http_guide: Path
) -> None:
    model = f"guide-http-{uuid.uuid4().hex[:8]}"
    _script(e2e_providers, model)
    processes.env["TASKCRAFT_AGENTS"] = str(http_guide)
    worker_env = {"TASKCRAFT_MODEL": f"openai:{model}", "NOTES_TOKEN": "s3cret"}
    task_id = _run_to_the_gate_restart_and_approve(processes, e2e_providers, model, worker_env)
    state = _status(processes, task_id)
    assert state["status"] == "COMPLETED"
    assert [json.loads(line) for line in notes.read_text().splitlines()] == [NOTE]
    # The server ran without admin tools (NOTES_ADMIN_TOOLS is not passed over HTTP).
    assert _offered_tools(e2e_providers, model)[-1] == ["notes__add", "notes__search", "word_count"]


def test_the_readme_guide_runs_as_written_on_the_offline_model(
    processes: Processes, notes: Path
) -> None:
    """No key, no model: the guide's folder, its offline responder, the README's commands."""
    processes.env |= {"TASKCRAFT_AGENTS": str(GUIDE), "NOTES_FILE": str(notes)}
    processes.start_worker()
    task_id = f"guide-{uuid.uuid4().hex[:6]}"
    checked = processes.cli("agents", "check", str(GUIDE))
    assert (checked.returncode, checked.stdout) == (0, "ok: notes-keeper\n"), checked.stderr
    started = processes.cli("start", "notes-keeper", "--input", "topic=deploys", "--id", task_id)
    assert started.returncode == 0, started.stderr
    wait_until(
        lambda: _status(processes, task_id)["status"] == "AWAITING_APPROVAL",
        timeout=90,
        what="the gate on notes.add",
    )
    approved = processes.cli("approve", task_id, "--as", "alice")
    assert approved.returncode == 0, approved.stderr
    wait_until(
        lambda: _status(processes, task_id)["status"] == "COMPLETED", timeout=90, what="the end"
    )
    history = processes.cli("history", task_id)
    assert "👤 alice approved gate g1" in history.stdout
    assert "observe: [ok] filed note 'Deploys'" in history.stdout
    [note] = [json.loads(line) for line in notes.read_text().splitlines()]
    assert note["title"] == "Deploys"
