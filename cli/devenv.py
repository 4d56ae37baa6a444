"""``taskcraft dev`` and ``taskcraft demo``: a local Temporal (UI on :8233) plus a worker.

The server keeps its SQLite file in the project's ignored data folder, so tasks survive
a restart. Whatever these commands start, they stop on the way out (Ctrl-C included);
an already running server on the port is used and left alone.

The demo is the weekly incident report for 2026-W47 on the shipped sample data and the
offline model, sent to the local Slack outbox once someone approves it: it prints the
draft and the exact approve/reject commands, and waits (``--approve-as NAME`` approves by
itself, for CI). Its worker polls a queue of its own with the connectors forced to the
sample data and the outbox, so a configured Jira or Slack is never touched by a demo.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import replace

from cli.render import render_history
from infra.devserver import port_open, start_dev_server, stop_process
from infra.settings import OFFLINE_DEFAULT_MODEL, PROJECT_ROOT, Settings
from taskcraft.approvals import ApprovalRequest, Decision, DecisionKind
from taskcraft.status import TaskStatus
from taskcraft.task import TaskState
from taskcraft_client import TaskcraftClient

DEMO_AGENT = "incident-report"  # examples/incident_report
DEMO_WEEK = "2026-W47"
ANALYST_GOAL = "Summarise the files in the workspace and save the summary to a report file."
# The demo's worker posts nowhere real: sample tickets and logs, the local outbox.
LIVE_SLACK_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_CHANNEL", "SLACK_WEBHOOK_URL")
POLL_S = 0.3
SHORT = 100  # characters of a tool call or observation shown in the demo's timeline


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


def _start_worker(
    stack: ExitStack, settings: Settings, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    log_file = settings.data_dir / "logs" / "worker.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    output = open(log_file, "ab")  # noqa: SIM115 - closed with the stack
    stack.callback(output.close)
    worker = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "worker.py")],
        stdout=output,
        stderr=subprocess.STDOUT,
        env=env or {**os.environ},
    )
    stack.callback(stop_process, worker)
    _say(f"Worker started (pid {worker.pid}); its JSON log: {log_file}")
    return worker


def _demo_worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LIVE_SLACK_VARIABLES}
    return env | {"TASKCRAFT_TASK_QUEUE": settings.task_queue, "TASKCRAFT_SAMPLE_DATA": "1"}


def run(args: argparse.Namespace, settings: Settings) -> int:
    with ExitStack() as stack:
        _start_server(stack, settings)
        if args.command == "dev":
            if not args.no_worker:
                _start_worker(stack, settings)
            _say("Ready. Start a task from another terminal, e.g.:")
            _say(f"  taskcraft start {DEMO_AGENT} --goal 'Weekly report' --input week={DEMO_WEEK}")
            _say("Press Ctrl-C to stop.")
            try:
                while True:
                    stack_wait()
            except KeyboardInterrupt:
                _say("\nStopping …")
            return 0
        demo = replace(settings, task_queue=f"{settings.task_queue}-demo")
        worker = _start_worker(stack, demo, _demo_worker_env(demo))
        agent = getattr(args, "agent", None) or DEMO_AGENT
        code = asyncio.run(_demo(demo, agent, args.approve_as, worker))
        if sys.stdin.isatty():
            input("The Temporal UI stays up until you press Enter … ")
        return code


def stack_wait() -> None:
    import time

    time.sleep(3600)


async def _demo(
    settings: Settings, agent: str, approve_as: str | None, worker: subprocess.Popen[bytes]
) -> int:
    client = await TaskcraftClient.connect(settings)
    task_id = f"{agent}-demo-{os.getpid()}"
    report = agent == DEMO_AGENT
    _say("")
    started = await client.start(  # exactly what `taskcraft start` does
        agent,
        goal=f"Weekly incident report for {DEMO_WEEK}" if report else ANALYST_GOAL,
        inputs={"week": DEMO_WEEK} if report else {},
        task_id=task_id,
        model=[OFFLINE_DEFAULT_MODEL] if report else None,
    )
    _say(f"Started task {started.task_id}\nTemporal UI: {started.url}")
    handle = client.temporal.get_workflow_handle(task_id)
    seen_steps, last_status, announced = 0, "", ""
    while True:
        if worker.poll() is not None:
            _say(f"\nThe worker exited (code {worker.returncode}); see its log.")
            return 1
        state = await handle.query("state", result_type=TaskState)
        for step in state.steps[seen_steps:]:
            if step.finished_at is None:
                break
            calls = ", ".join(
                f"{c.name} → {c.outcome.value if c.outcome else '…'}" for c in step.tool_calls
            )
            _say(
                f"  step {step.step} [{step.model}] {calls or f'wrote {len(step.text)} characters'}"
            )
            seen_steps += 1
        status = state.status.value + (f" — {state.status_detail}" if state.status_detail else "")
        if status != last_status:
            _say(f"  · {status}")
            last_status = status
        pending = state.pending
        if (
            state.status is TaskStatus.AWAITING_APPROVAL
            and pending
            and announced != pending.gate_id
        ):
            announced = pending.gate_id
            _announce(task_id, pending)
            if approve_as:
                await handle.execute_update(
                    "decide_and_confirm",
                    Decision(
                        kind=DecisionKind.APPROVE, approver=approve_as, gate_id=pending.gate_id
                    ),
                )
                _say(f"     approved as {approve_as} (--approve-as)\n")
            else:
                _say("     Run one of these in another terminal; this demo waits for it.\n")
        if state.status.is_terminal:
            break
        await asyncio.sleep(POLL_S)
    _say("\nTimeline:\n" + render_history([_compact(state)]))
    if report and state.status is TaskStatus.COMPLETED:
        _show_outbox(settings, task_id)
    _say(f"\nTask {task_id} ended {state.status.value}.")
    return 0 if state.status is TaskStatus.COMPLETED else 1


def _announce(task_id: str, pending: ApprovalRequest) -> None:
    who = pending.allowed_approvers()
    name = who[0] if who else os.environ.get("USER", "NAME")
    _say(f"\n  ⏸  Waiting for approval (gate {pending.gate_id}): {pending.title}")
    _say(f"     {pending.reason}; who may decide: {', '.join(who) or 'any operator'}")
    if pending.draft is not None:
        _say("     Draft:\n" + "\n".join(f"       │ {line}" for line in pending.draft.splitlines()))
    _say("     In another terminal (after `. .venv/bin/activate`):")
    _say(f"     approve: taskcraft approve {task_id} --gate {pending.gate_id} --as {name}")
    _say(
        f"     revise:  taskcraft reject {task_id} --gate {pending.gate_id} --as {name} "
        '--reason "leave out internal ticket numbers"'
    )


def _short(text: str, limit: int = SHORT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + f"… ({len(flat)} characters)"


def _compact(state: TaskState) -> TaskState:
    """The timeline with long texts cut: the draft is shown once, in full, elsewhere."""
    steps = [
        step.model_copy(
            update={
                "text": _short(step.text),
                "tool_calls": [
                    call.model_copy(
                        update={
                            "arguments": _short(call.arguments),
                            "observation": _short(call.observation),
                        }
                    )
                    for call in step.tool_calls
                ],
            }
        )
        for step in state.steps
    ]
    result = state.result.splitlines()[0] if state.result else None
    return state.model_copy(update={"steps": steps, "result": result})


def _show_outbox(settings: Settings, task_id: str) -> None:
    outbox = settings.data_dir / "outbox" / "slack.jsonl"
    lines = outbox.read_text(encoding="utf-8").splitlines() if outbox.exists() else []
    sent = [json.loads(line) for line in lines if f'"{task_id}/' in line]
    _say(f"\nSent to the local Slack outbox (a demo never posts to a real Slack): {outbox}")
    for record in sent:
        _say(f"  key {record['idempotency_key']} · recorded {record.get('recorded_at', '-')}")
        _say("\n".join(f"  │ {line}" for line in record["text"].splitlines()))
    _say(f"  ({len(sent)} message(s) for this task in the outbox)")
