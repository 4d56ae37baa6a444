"""Tasks are readable from Temporal alone, and commands that need a worker say so at once.

A finished task's record is rebuilt from its history (no worker runs while the CLI
reads it); an open task with no worker shows its last recorded state and names the
queue that needs one; a decision with no worker fails fast; an id in use and payloads
encrypted with keys the CLI lacks are one line each.
"""

from __future__ import annotations

import json
import time
import uuid

from tests.e2e.conftest import Processes, wait_until
from tests.support.fake_providers import FakeProviders, FakeToolCall, reply


def _finished_task(processes: Processes, providers: FakeProviders, model: str) -> str:
    providers.script(reply("Done: nothing to read."), model=model)
    task_id = f"closed-{uuid.uuid4().hex[:6]}"
    worker = processes.start_worker({"TASKCRAFT_MODEL": f"openai:{model}"})
    done = processes.cli(
        "start", "workspace-analyst", "--goal", "say done", "--id", task_id, "--wait"
    )
    assert done.returncode == 0, done.stderr
    processes.kill(worker)
    return task_id


def test_a_finished_task_is_read_without_any_worker(
    processes: Processes, e2e_providers: FakeProviders
) -> None:
    task_id = _finished_task(processes, e2e_providers, f"closed-{uuid.uuid4().hex[:8]}")
    began = time.monotonic()
    shown = processes.cli("status", task_id)
    elapsed = time.monotonic() - began
    assert shown.returncode == 0, shown.stderr
    assert "Status    COMPLETED" in shown.stdout
    assert "Done: nothing to read." in shown.stdout
    assert shown.stderr == ""
    assert elapsed < 10  # no query waits for a worker that is not there
    history = processes.cli("history", task_id, "--json")
    assert json.loads(history.stdout)["status"] == "COMPLETED"
    audit = processes.cli("audit", task_id, "--json")
    assert audit.returncode == 0, audit.stderr


def test_an_open_task_without_a_worker_shows_its_last_state_and_names_the_queue(
    processes: Processes, e2e_providers: FakeProviders
) -> None:
    model = f"open-{uuid.uuid4().hex[:8]}"
    e2e_providers.script(
        reply("Saving.", [FakeToolCall("write_file", {"path": "a.md", "content": "x"})]),
        model=model,
    )
    task_id = f"open-{uuid.uuid4().hex[:6]}"
    worker = processes.start_worker({"TASKCRAFT_MODEL": f"openai:{model}"})
    assert (
        processes.cli("start", "workspace-analyst", "--goal", "save", "--id", task_id).returncode
        == 0
    )

    def at_gate() -> bool:
        shown = processes.cli("status", task_id, "--json")
        return shown.returncode == 0 and json.loads(shown.stdout)["status"] == "AWAITING_APPROVAL"

    wait_until(at_gate, timeout=60, what="the write gate")
    processes.kill(worker)
    shown = processes.cli("status", task_id)
    assert shown.returncode == 0, shown.stderr
    assert "Status    AWAITING_APPROVAL" in shown.stdout
    assert "Waiting   gate g1: run write_file" in shown.stdout
    queue = processes.env["TASKCRAFT_TASK_QUEUE"]
    assert f"(task queue {queue})" in shown.stderr or f"task queue {queue}" in shown.stderr
    assert shown.stderr.startswith("note: ")
    assert "shown as of its last recorded event" in shown.stderr


def test_approve_with_no_worker_on_a_fresh_queue_fails_fast_naming_the_queue(
    processes: Processes, e2e_providers: FakeProviders
) -> None:
    """A task started where no worker ever polled: nothing is sent, the queue is named."""
    queue = f"nobody-{uuid.uuid4().hex[:6]}"
    task_id = f"unserved-{uuid.uuid4().hex[:6]}"
    env = {"TASKCRAFT_TASK_QUEUE": queue}
    assert processes.cli("start", "workspace-analyst", "--id", task_id, env=env).returncode == 0
    began = time.monotonic()
    approved = processes.cli("approve", task_id, "--as", "alice", env=env)
    assert time.monotonic() - began < 15
    assert approved.returncode == 2
    assert approved.stderr == (
        f"Error: nothing was sent to task {task_id}: no worker is polling task queue {queue}: "
        f"start one there (TASKCRAFT_TASK_QUEUE={queue} python worker.py)\n"
    )
    shown = processes.cli("status", task_id, env=env)
    assert shown.returncode == 0
    assert f"no worker is polling task queue {queue}" in shown.stderr
    assert "Status    PENDING" in shown.stdout


def test_an_id_in_use_is_one_line_saying_whether_it_runs(
    processes: Processes, e2e_providers: FakeProviders
) -> None:
    task_id = _finished_task(processes, e2e_providers, f"dup-{uuid.uuid4().hex[:8]}")
    again = processes.cli("start", "workspace-analyst", "--id", task_id)
    assert (again.returncode, again.stdout) == (2, "")
    assert again.stderr == (
        f"Error: a task with id {task_id!r} already exists (it has completed); "
        "choose another --id\n"
    )
    queue = f"nobody-{uuid.uuid4().hex[:6]}"
    running = f"running-{uuid.uuid4().hex[:6]}"
    env = {"TASKCRAFT_TASK_QUEUE": queue}
    assert processes.cli("start", "workspace-analyst", "--id", running, env=env).returncode == 0
    twice = processes.cli("start", "workspace-analyst", "--id", running, env=env)
    assert twice.stderr == (
        f"Error: a task with id {running!r} already exists (it is still running); "
        "choose another --id\n"
    )


def test_encrypted_payloads_without_keys_are_one_line_naming_the_setting(
    processes: Processes, e2e_providers: FakeProviders
) -> None:
    keys = {"TASKCRAFT_CODEC_KEYS": "k1:" + "A" * 43 + "="}
    processes.env.update(keys)
    task_id = _finished_task(processes, e2e_providers, f"enc-{uuid.uuid4().hex[:8]}")
    without = {**processes.env}
    del without["TASKCRAFT_CODEC_KEYS"]
    processes.env = without
    for command in (["status", task_id], ["history", task_id]):
        shown = processes.cli(*command)
        assert shown.returncode == 2, shown.stdout
        assert shown.stderr == (
            f"Error: task {task_id}'s payloads are encrypted and this process has no key for "
            "them: set TASKCRAFT_CODEC_KEYS (or TASKCRAFT_CODEC_KEY_FILE) to the workers' keys\n"
        )
