"""``taskcraft dev`` and ``taskcraft demo``: a local Temporal server (with its Web UI) and a worker.

The server keeps its SQLite file in the ignored data folder, so tasks survive a restart and
can be read after a demo. ``--port``/``--ui-port`` (or a local ``TEMPORAL_ADDRESS``) pick
the ports, so environments run side by side, each with a database file of its own; the
worker started here connects to that port. What these commands start they stop on the way
out, saying so, however they are stopped (see ``infra.devserver.OwnedProcesses``); a
server already listening on the port is used and left running.

The demo is the weekly incident report for 2026-W47 on the sample data and the offline
model, its worker on a queue of its own with the connectors forced to the sample data and
the local outbox (a configured Jira or Slack is never touched). It prints the draft and the
approve/reject commands and waits (``--approve-as NAME`` approves by itself, for CI); at
the end the Web UI stays up until Enter on a terminal, and the last lines say how to read
the task again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack, suppress
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from cli.render import local_zone, render_history
from infra import devserver
from infra.connection import connect_config
from infra.devserver import (
    LocalServer,
    OwnedProcesses,
    StopRequested,
    port_open,
    start_dev_server,
    start_owned,
    stop_process,
    wait_for_log,
)
from infra.settings import OFFLINE_DEFAULT_MODEL, PROJECT_ROOT, Settings
from taskcraft import handlers
from taskcraft.approvals import ApprovalRequest, Decision, DecisionKind
from taskcraft.links import task_ui_url
from taskcraft.status import TaskStatus
from taskcraft.task import TaskState
from taskcraft.timefmt import human_time, span
from taskcraft_client import TaskcraftClient

DEMO_AGENT = "incident-report"  # examples/incident_report
DEMO_WEEK = "2026-W47"
ANALYST_GOAL = "Summarise the files in the workspace and save the summary to a report file."
# The demo's worker posts nowhere real: sample tickets and logs, the local outbox.
LIVE_SLACK_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_CHANNEL", "SLACK_WEBHOOK_URL")
POLL_S = 0.3
SHORT = 100  # characters of a tool call or observation shown in the demo's timeline
GATE_REMINDER_EVERY_S = 60.0
ACTIVATE = "after `. .venv/bin/activate`"


def _say(text: str = "", end: str = "\n") -> None:
    """Print now; a terminal that went away (SIGHUP) must not interrupt the clean-up."""
    with suppress(OSError):
        print(text, end=end, flush=True)


def _path(path: Path) -> str:
    """A path as the reader can use it: relative when under the working directory."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def local_server(args: argparse.Namespace, settings: Settings) -> LocalServer:
    """``--port``/``--ui-port``, else the port of a local TEMPORAL_ADDRESS (or profile)."""
    return devserver.local_server(
        getattr(args, "port", None),
        getattr(args, "ui_port", None),
        target=str(connect_config(settings.env)["target_host"]),
        data_dir=settings.data_dir,
        command=args.command,
    )


def _local_settings(settings: Settings, server: LocalServer) -> Settings:
    """Settings for the worker and client of this environment: its address and UI."""
    env = {**settings.env, "TEMPORAL_ADDRESS": server.address}
    env.setdefault("TASKCRAFT_UI_URL", server.ui_url)
    return replace(settings, env=env, ui_url=env["TASKCRAFT_UI_URL"].rstrip("/"))


def _stop(what: str, process: subprocess.Popen[bytes]) -> None:
    _say(f"Stopping {what} (pid {process.pid}) … ", end="")
    _say(stop_process(process) + ".")


def _start_server(stack: ExitStack, server: LocalServer) -> subprocess.Popen[bytes] | None:
    """Start the dev server unless one already listens (then None)."""
    if port_open("127.0.0.1", server.port):
        _say(
            f"Using the Temporal server already listening on {server.shown}; it was not "
            "started here, so it is left running."
        )
        return None
    log = server.log_file("temporal")
    log.parent.mkdir(parents=True, exist_ok=True)
    _say(f"Starting the Temporal dev server on {server.shown} (data: {_path(server.db_file)}) …")
    began = time.monotonic()
    process = start_dev_server(
        server.db_file,
        port=server.port,
        ui_port=server.ui_port,
        log_file=log,
        progress=lambda s: _say(f"  … still starting ({span(s)}); its log: {_path(log)}"),
    )
    stack.callback(_stop, "the Temporal dev server", process)
    _say(f"Temporal dev server ready in {time.monotonic() - began:.1f} s · Web UI: {server.ui_url}")
    return process


def _start_worker(
    stack: ExitStack, settings: Settings, server: LocalServer, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    log_file = server.log_file("worker")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    output = open(log_file, "ab")  # noqa: SIM115 - closed with the stack, after the worker
    stack.callback(output.close)
    offset = output.tell()
    began = time.monotonic()
    _say(
        f"Starting a worker on task queue {settings.task_queue} (its JSON log: {_path(log_file)}) …"
    )
    worker = start_owned([sys.executable, str(PROJECT_ROOT / "worker.py")], output=output, env=env)
    stack.callback(_stop, "the worker", worker)
    wait_for_log(
        worker,
        log_file,
        offset,
        '"worker.started"',
        what="the worker",
        progress=lambda s: _say(f"  … the worker is still starting ({span(s)})"),
    )
    _say(f"Worker ready in {time.monotonic() - began:.1f} s (pid {worker.pid}).")
    return worker


def _demo_worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in settings.env.items() if k not in LIVE_SLACK_VARIABLES}
    return env | {"TASKCRAFT_TASK_QUEUE": settings.task_queue, "TASKCRAFT_SAMPLE_DATA": "1"}


def run(args: argparse.Namespace, settings: Settings) -> int:
    server = local_server(args, settings)
    local = _local_settings(settings, server)
    code, afterwards = 1, ""
    with OwnedProcesses() as stack:
        try:
            started = _start_server(stack, server)
            if args.command == "dev":
                code = _dev(stack, args, local, server, started)
            else:
                code, afterwards = _run_demo(stack, args, local, server, started is not None)
        except KeyboardInterrupt as stop:
            signum = stop.signum if isinstance(stop, StopRequested) else signal.SIGINT
            _say(f"\n{signal.Signals(signum).name}: stopping what this command started.")
            code = 128 + signum
    _say(afterwards, end="")
    return code


def _dev(
    stack: ExitStack,
    args: argparse.Namespace,
    settings: Settings,
    server: LocalServer,
    started: subprocess.Popen[bytes] | None,
) -> int:
    worker = None if args.no_worker else _start_worker(stack, settings, server, dict(settings.env))
    _say(f"Ready. Start a task from another terminal ({ACTIVATE}), e.g.:")
    for line in server.exports(settings.ui_url):
        _say(line)
    _say(f"  taskcraft start {DEMO_AGENT} --goal 'Weekly report' --input week={DEMO_WEEK}")
    _say(
        "Ctrl-C (or SIGTERM) stops the worker and the dev server this command started; "
        f"tasks stay in {_path(server.db_file)}."
    )
    watched = {"The worker": (worker, "worker"), "The dev server": (started, "temporal")}
    while True:  # until a signal, or until one of them exits on its own
        time.sleep(1)
        for name, (process, log) in watched.items():
            if process is not None and process.poll() is not None:
                where = _path(server.log_file(log))
                _say(f"{name} exited (code {process.returncode}); see {where}")
                return 1


def _run_demo(
    stack: ExitStack,
    args: argparse.Namespace,
    settings: Settings,
    server: LocalServer,
    started_server: bool,
) -> tuple[int, str]:
    demo = replace(settings, task_queue=f"{settings.task_queue}-demo")
    worker = _start_worker(stack, demo, server, _demo_worker_env(demo))
    agent = getattr(args, "agent", None) or DEMO_AGENT
    task_id = f"{agent}-demo-{os.getpid()}"
    url = task_ui_url(settings.ui_url, str(connect_config(settings.env)["namespace"]), task_id)
    afterwards = _afterwards(server, settings, task_id, url, started_server)
    try:
        code = asyncio.run(_demo(demo, agent, task_id, args.approve_as, worker))
    except KeyboardInterrupt:
        _say(f"\nThe demo's task {task_id} stays where it is; its worker stops now.")
        raise
    if not started_server:
        return code, afterwards
    if sys.stdin.isatty():
        _say(f"\nThe Web UI stays up until you press Enter: {url}")
        try:
            input("Press Enter to stop the demo's worker and Temporal dev server … ")
        except EOFError:
            pass
        except KeyboardInterrupt as stop:
            if isinstance(stop, StopRequested):
                raise
            _say()
    else:
        _say("\nNot run from a terminal, so not waiting for Enter: the demo stops now.")
    return code, afterwards


def _afterwards(
    server: LocalServer, settings: Settings, task_id: str, url: str, started_server: bool
) -> str:
    """The demo's last lines: where its task is kept and how to read it again."""
    if started_server:
        lines = [
            f"The demo's task is kept in {_path(server.db_file)}. To browse and query it later "
            f"({ACTIVATE}):",
            f"  taskcraft dev{server.flags}    # the same database; Web UI on {server.ui_url}",
        ]
    else:
        lines = [f"The demo's task stays on the server at {server.shown}. To query it:"]
    lines += [
        *server.exports(settings.ui_url),
        f"  taskcraft status {task_id}",
        f"  taskcraft history {task_id}",
        f"  {url}",
    ]
    return "\n" + "\n".join(lines) + "\n"


async def _demo(
    settings: Settings,
    agent: str,
    task_id: str,
    approve_as: str | None,
    worker: subprocess.Popen[bytes],
) -> int:
    client = await TaskcraftClient.connect(settings)
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
    waiting_since = next_reminder = 0.0
    while True:
        if worker.poll() is not None:
            _say(f"\nThe worker exited (code {worker.returncode}); see its log.")
            return 1
        state = await handle.query(handlers.STATE, result_type=TaskState)
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
        waiting = state.status is TaskStatus.AWAITING_APPROVAL and pending is not None
        if waiting and pending is not None and announced != pending.gate_id:
            announced = pending.gate_id
            waiting_since, next_reminder = (
                time.monotonic(),
                time.monotonic() + GATE_REMINDER_EVERY_S,
            )
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
        elif waiting and time.monotonic() >= next_reminder:
            _say(
                f"     … still waiting at gate {announced} "
                f"({span(time.monotonic() - waiting_since)}); the commands are above"
            )
            next_reminder += GATE_REMINDER_EVERY_S
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
    _say(f"     In another terminal ({ACTIVATE}):")
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
    _say(f"\nSent to the local Slack outbox (a demo never posts to a real Slack): {_path(outbox)}")
    now, zone = datetime.now(UTC), local_zone()
    for record in sent:
        recorded = record.get("recorded_at")
        when = human_time(datetime.fromisoformat(recorded), now=now, tz=zone) if recorded else "-"
        _say(f"  key {record['idempotency_key']} · recorded {when}")
        _say("\n".join(f"  │ {line}" for line in record["text"].splitlines()))
    _say(f"  ({len(sent)} message(s) for this task in the outbox)")
