"""Kill the worker mid-task: a new worker finishes it, and completed model calls are not repeated."""

from __future__ import annotations

import json
import uuid

from tests.e2e.conftest import Processes, wait_until
from tests.support.fake_providers import FakeProviders, FakeToolCall, reply


def test_sigkill_mid_task_resumes_without_repeating_completed_calls(
    processes: Processes, e2e_providers: FakeProviders
) -> None:
    model = f"crash-{uuid.uuid4().hex[:8]}"
    (processes.folder / "workspace" / "a.txt").write_text("alpha")
    e2e_providers.script(
        reply("listing", [FakeToolCall("list_files", {"path": "."}, id="k1")]),
        reply("reading", [FakeToolCall("read_file", {"path": "a.txt"}, id="k2")]),
        # The third turn hangs long enough for the worker to be killed during it.
        reply("slow answer that is never delivered", delay_s=30),
        reply("a.txt says alpha"),
        model=model,
    )
    env = {"TASKCRAFT_MODEL": f"openai:{model}"}
    first = processes.start_worker(env)
    started = processes.cli(
        "start", "workspace-analyst", "--goal", "read a.txt", "--id", f"crash-{model}"
    )
    assert started.returncode == 0, started.stderr
    task_id = f"crash-{model}"

    wait_until(lambda: e2e_providers.count(model=model) == 3, timeout=60, what="third model call")
    processes.kill(first)
    processes.start_worker(env)

    def finished() -> bool:
        status = processes.cli("status", task_id, "--json")
        return status.returncode == 0 and json.loads(status.stdout)["status"] == "COMPLETED"

    wait_until(finished, timeout=90, what="task completion on the second worker")
    state = json.loads(processes.cli("status", task_id, "--json").stdout)
    assert state["result"] == "a.txt says alpha"
    assert state["step"] == 3
    bodies = [r.body for r in e2e_providers.requests(model=model)]
    # Requests 1 and 2 completed before the crash and were never sent again;
    # request 3 was in flight, so it was retried once, with the same conversation.
    assert len(bodies) == 4
    assert len(bodies[0]["messages"]) == 2
    assert len(bodies[1]["messages"]) == 4
    assert bodies[2]["messages"] == bodies[3]["messages"]
    history = processes.cli("history", task_id)
    assert history.returncode == 0
    assert "list_files" in history.stdout
    assert "read_file" in history.stdout
    # The worker's whole output (its own log, the SDK's and Core's) is JSON lines.
    lines = [line for line in processes.worker_log(1).splitlines() if line.strip()]
    assert lines
    assert all(isinstance(json.loads(line), dict) for line in lines), lines
