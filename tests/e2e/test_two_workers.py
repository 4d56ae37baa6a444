"""Two workers share the task queue; the one running a task's model call dies, the task goes on."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from tests.e2e.conftest import Processes, wait_until
from tests.support.fake_providers import FakeProviders, FakeToolCall, reply


def _connected_to(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds an open TCP connection to 127.0.0.1:``port``."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote, state, inode = fields[2], fields[3], fields[9]
        if inode in inodes and state == "01" and int(remote.split(":")[1], 16) == port:
            return True
    return False


def test_task_survives_the_death_of_the_worker_running_it(
    processes: Processes, e2e_providers: FakeProviders
) -> None:
    model = f"two-{uuid.uuid4().hex[:8]}"
    (processes.folder / "workspace" / "b.txt").write_text("beta")
    e2e_providers.script(
        reply("listing", [FakeToolCall("list_files", {"path": "."}, id="t1")]),
        reply("hanging", delay_s=30),
        reply("b.txt says beta"),
        model=model,
    )
    env = {"TASKCRAFT_MODEL": f"openai:{model}"}
    workers = [processes.start_worker(env), processes.start_worker(env)]
    task_id = f"two-{model}"
    assert (
        processes.cli("start", "workspace-analyst", "--goal", "read", "--id", task_id).returncode
        == 0
    )
    wait_until(lambda: e2e_providers.count(model=model) == 2, timeout=60, what="the hanging call")
    port = int(e2e_providers.url.rsplit(":", 1)[1])
    busy = [w for w in workers if _connected_to(w.pid, port)]
    assert len(busy) == 1, "exactly one worker should be running the model call"
    processes.kill(busy[0])
    survivor = next(w for w in workers if w is not busy[0])

    def completed() -> bool:
        result = processes.cli("status", task_id, "--json")
        return result.returncode == 0 and json.loads(result.stdout)["status"] == "COMPLETED"

    wait_until(completed, timeout=90, what="completion on the surviving worker")
    assert survivor.poll() is None
    state = json.loads(processes.cli("status", task_id, "--json").stdout)
    assert state["result"] == "b.txt says beta"
    assert e2e_providers.count(model=model) == 3  # the first call was never repeated
