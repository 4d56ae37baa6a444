"""``taskcraft dev`` and ``taskcraft demo``: a local Temporal (UI on :8233) plus a worker.

The server keeps its SQLite file in the project's ignored data folder, so tasks survive
a restart. Whatever these commands start, they stop on the way out (Ctrl-C included);
an already running server on the port is used and left alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from contextlib import ExitStack

from cli.render import render_history
from infra.connection import connect
from infra.devserver import port_open, start_dev_server, stop_process
from infra.settings import PROJECT_ROOT, Settings
from taskcraft.approvals import Decision, DecisionKind
from taskcraft.catalog import find_agent
from taskcraft.links import task_ui_url
from taskcraft.status import TaskStatus
from taskcraft.task import TaskInput, TaskResult, TaskState

DEMO_AGENT = "workspace-analyst"
DEMO_GOAL = "Summarise the files in the workspace and save the summary to a report file."


def _say(text: str) -> None:
    print(text, flush=True)


def _start_server(stack: ExitStack, settings: Settings) -> None:
    if port_open("127.0.0.1", 7233):
        _say("Using the Temporal server already listening on localhost:7233.")
        return
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    db_file = settings.data_dir / "temporal.sqlite"
    _say(f"Starting the Temporal dev server (SQLite at {db_file}) …")
    server = start_dev_server(db_file, log_file=logs / "temporal.log")
    stack.callback(stop_process, server)
    _say("Temporal UI: http://localhost:8233")


def _start_worker(stack: ExitStack, settings: Settings) -> subprocess.Popen[bytes]:
    log_file = settings.data_dir / "logs" / "worker.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    output = open(log_file, "ab")  # noqa: SIM115 - closed with the stack
    stack.callback(output.close)
    worker = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "worker.py")],
        stdout=output,
        stderr=subprocess.STDOUT,
        env={**os.environ},
    )
    stack.callback(stop_process, worker)
    _say(f"Worker started (pid {worker.pid}); its JSON log: {log_file}")
    return worker


def run(args: argparse.Namespace, settings: Settings) -> int:
    with ExitStack() as stack:
        _start_server(stack, settings)
        if args.command == "dev":
            if not args.no_worker:
                _start_worker(stack, settings)
            _say("Ready. Start a task from another terminal, e.g.:")
            _say(f'  taskcraft start {DEMO_AGENT} --goal "Summarise the workspace" --wait')
            _say("Press Ctrl-C to stop.")
            try:
                while True:
                    stack_wait()
            except KeyboardInterrupt:
                _say("\nStopping …")
            return 0
        _start_worker(stack, settings)
        code = asyncio.run(_demo(settings, args.approve_as))
        if sys.stdin.isatty():
            input("The Temporal UI stays up until you press Enter … ")
        return code


def stack_wait() -> None:
    import time

    time.sleep(3600)


async def _demo(settings: Settings, approve_as: str | None) -> int:
    client = await connect(settings)
    spec = find_agent(DEMO_AGENT)
    task_id = f"demo-{os.getpid()}"
    handle = await client.start_workflow(
        spec.workflow,
        TaskInput(agent=spec.name, goal=DEMO_GOAL),
        id=task_id,
        task_queue=settings.task_queue,
        result_type=TaskResult,
        static_summary=f"{spec.name}: {DEMO_GOAL}",
    )
    _say(f"\nStarted task {task_id} ({spec.name})")
    _say(f"Temporal UI: {task_ui_url(settings.ui_url, client.namespace, task_id)}\n")
    seen_steps, announced_gate = 0, None
    while True:
        state = await handle.query("state", result_type=TaskState)
        for step in state.steps[seen_steps:]:
            if step.finished_at is None:
                break
            calls = ", ".join(
                f"{c.name} → {c.outcome.value if c.outcome else '…'}" for c in step.tool_calls
            )
            _say(f"  step {step.step} [{step.model}] {calls or 'final answer'}")
            seen_steps += 1
        if (
            state.status is TaskStatus.AWAITING_APPROVAL
            and state.pending
            and announced_gate != state.pending.gate_id
        ):
            pending = state.pending
            announced_gate = pending.gate_id
            _say(
                f"\n  ⏸  Waiting for approval (gate {pending.gate_id}): {pending.title} — {pending.reason}"
            )
            _say(
                f"     approve: taskcraft approve {task_id} --gate {pending.gate_id} --as YOUR_NAME"
            )
            _say(
                f'     reject:  taskcraft reject {task_id} --gate {pending.gate_id} --reason "..."'
            )
            if approve_as:
                await handle.execute_update(
                    "decide_and_confirm",
                    Decision(
                        kind=DecisionKind.APPROVE, approver=approve_as, gate_id=pending.gate_id
                    ),
                )
                _say(f"     approved as {approve_as} (--approve-as)\n")
            else:
                _say("     (run one of these in another terminal; this demo waits)\n")
        if state.status.is_terminal:
            break
        await asyncio.sleep(0.3)
    _say("\n" + render_history([state]))
    _say(f"\nTask {task_id} ended {state.status.value}.")
    return 0 if state.status is TaskStatus.COMPLETED else 1
