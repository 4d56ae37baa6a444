"""The ``taskcraft`` command line's arguments, one small builder per group of commands."""

from __future__ import annotations

import argparse
import os
from typing import Any

from taskcraft.schedules import OverlapPolicy

EXAMPLES = """examples:
  taskcraft start workspace-analyst --goal "Summarise the workspace" --wait
  taskcraft start incident-report --input week=2026-W47
  taskcraft status workspace-analyst-1a2b3c4d
  taskcraft list --status AWAITING_APPROVAL
  taskcraft approve incident-report-1a2b3c4d --as alice --comment "ship it"
  taskcraft reject incident-report-1a2b3c4d --reason "leave out internal ticket numbers"
  taskcraft agents list
  taskcraft agents check my-agents/
  taskcraft schedule create weekly --agent incident-report --cron "0 9 * * MON"
"""

Subparsers = Any  # argparse's _SubParsersAction, which it does not export


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2, like every other error."""

    def error(self, message: str) -> Any:
        self.exit(2, f"Error: {message} (see `{self.prog} --help`)\n")


def _who() -> str:
    return os.environ.get("USER", "operator")


def _task_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("task_id", metavar="ID", help="the task id (the Temporal workflow id)")


def _start(sub: Subparsers) -> None:
    start = sub.add_parser(
        "start",
        help="start a task",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    start.add_argument("agent", help="the agent's name (see `taskcraft agents list`)")
    start.add_argument(
        "--goal", help="what the agent should achieve (default: the agent's own purpose)"
    )
    start.add_argument(
        "--input",
        action="append",
        metavar="KEY=VALUE",
        help="a task input, checked against the agent's inputs (repeatable)",
    )
    start.add_argument("--id", help="the task id (default: AGENT-<random>); never reused")
    start.add_argument("--model", help="override the agent's model route: REF[,REF...]")
    start.add_argument("--policy", help="override the agent's policy by name")
    start.add_argument("--wait", action="store_true", help="wait for the task to finish")


def _views(sub: Subparsers) -> None:
    for name, help_text in [
        ("status", "show a task's status (works without a worker)"),
        ("history", "show the timeline: steps, calls and every human action"),
        ("audit", "show every policy decision"),
    ]:
        command = sub.add_parser(name, help=help_text)
        _task_id(command)
        command.add_argument("--json", action="store_true", help="machine-readable output")
    listing = sub.add_parser("list", help="list tasks (a visibility query)")
    listing.add_argument("--status", help="only tasks in this status")
    listing.add_argument("--agent", help="only tasks of this agent")
    listing.add_argument("--schedule", help="only tasks this schedule started")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true")
    waiting = sub.add_parser("pending", help="tasks waiting for a human, oldest first")
    waiting.add_argument("--json", action="store_true")


def _decisions(sub: Subparsers) -> None:
    for name, help_text in [
        ("approve", "approve the pending gate"),
        ("reject", "reject the pending gate"),
        ("edit", "approve with changed arguments or a changed draft"),
    ]:
        command = sub.add_parser(name, help=help_text)
        _task_id(command)
        command.add_argument("--gate", help="the gate id (default: whichever is pending)")
        command.add_argument(
            "--as", dest="approver", default=_who(), help="who decides (default: $USER)"
        )
        command.add_argument("--comment", default="")
        if name == "reject":
            command.add_argument("--reason", required=True, help="why; the agent is told")
        if name == "edit":
            command.add_argument("--args", help="replacement tool arguments as a JSON object")
            command.add_argument("--draft", help="replacement draft text")


def _controls(sub: Subparsers) -> None:
    cancel = sub.add_parser("cancel", help="cancel a task (it ends CANCELLED, record intact)")
    _task_id(cancel)
    for name, help_text in [
        ("pause", "pause after the current step"),
        ("resume", "resume, or retry a RECOVERING task now"),
    ]:
        command = sub.add_parser(name, help=help_text)
        _task_id(command)
        command.add_argument("--by", default=_who())
    message = sub.add_parser("message", help="leave a note the model reads at its next turn")
    _task_id(message)
    message.add_argument("text")
    message.add_argument("--by", default=_who())


def _agents(sub: Subparsers) -> None:
    agents = sub.add_parser("agents", help="the agents this deployment's folders define")
    agents_sub = agents.add_subparsers(dest="agents_command", required=True, parser_class=Parser)
    listing = agents_sub.add_parser("list", help="every agent, its tools, policy and inputs")
    listing.add_argument("--json", action="store_true")
    check = agents_sub.add_parser(
        "check", help="check agent files or folders; every problem as file:line: message"
    )
    check.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")


SCHEDULE_EXAMPLES = """examples:
  taskcraft schedule create weekly-incidents --agent incident-report \\
      --cron "0 9 * * MON" --tz Europe/Berlin --input week={previous_iso_week}
  taskcraft schedule create hourly-check --agent workspace-analyst --every 1h
  taskcraft schedule show weekly-incidents
  taskcraft schedule backfill weekly-incidents --from 2026-11-01 --to 2026-12-01
  taskcraft schedule apply            # the schedules agent files declare ([[schedules]])

placeholders in --input values, resolved at each firing in the schedule's zone:
  {scheduled_time} {date} {previous_date} {iso_week} {previous_iso_week} {month}
  {previous_month}
"""


def _schedules(sub: Subparsers) -> None:
    schedule = sub.add_parser(
        "schedule",
        help="run agents on a schedule (Temporal Schedules)",
        epilog=SCHEDULE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = schedule.add_subparsers(dest="schedule_command", required=True, parser_class=Parser)
    create = commands.add_parser(
        "create",
        help="create a schedule that starts tasks of an agent",
        epilog=SCHEDULE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    create.add_argument("name", help="the schedule's name (lower-case, digits, '-')")
    create.add_argument("--agent", required=True, help="the agent whose tasks it starts")
    timing = create.add_mutually_exclusive_group(required=True)
    timing.add_argument("--cron", help='a cron expression, e.g. "0 9 * * MON"')
    timing.add_argument("--every", help="an interval: 90s, 15m, 1h, 1d")
    create.add_argument("--tz", default="UTC", help="the time zone (default UTC)")
    create.add_argument("--goal", help="the tasks' goal (default: the agent's own purpose)")
    create.add_argument(
        "--input",
        action="append",
        metavar="KEY=VALUE",
        help="a task input, checked as `start` checks it; may use {placeholders}",
    )
    create.add_argument(
        "--overlap",
        choices=[policy.value for policy in OverlapPolicy],
        default=OverlapPolicy.SKIP.value,
        help="while the last task still runs: skip (default), buffer_one, allow_all",
    )
    create.add_argument(
        "--catch-up-window", help="firings missed by less than this still run (default 1h)"
    )
    create.add_argument("--paused", action="store_true", help="create it paused")
    commands.add_parser("list", help="every schedule")
    for name, help_text in [
        ("show", "a schedule: timing, inputs, overlap, next and recent runs"),
        ("pause", "stop firing until unpaused"),
        ("unpause", "fire again"),
        ("trigger", "fire now (its overlap policy still applies)"),
        ("delete", "delete it (the tasks it started are kept)"),
        ("backfill", "start the tasks it would have started in a past period"),
    ]:
        command = commands.add_parser(name, help=help_text)
        command.add_argument("name", help="the schedule's name")
        if name in ("pause", "unpause"):
            command.add_argument("--note", default="", help="why (shown by `schedule show`)")
        if name == "backfill":
            command.add_argument(
                "--from", dest="start", required=True, help="2026-11-01 or 2026-11-01T09:00"
            )
            command.add_argument(
                "--to", dest="end", required=True, help="the end (a firing at it is included)"
            )
            command.add_argument(
                "--overlap",
                choices=[policy.value for policy in OverlapPolicy],
                default=OverlapPolicy.ALLOW_ALL.value,
                help="allow_all (default: every firing runs), buffer_one or skip",
            )
    for name in ("apply", "sync"):
        command = commands.add_parser(
            name, help="create or update the schedules agent files declare (idempotent)"
        )
        command.add_argument("--agent", help="only this agent's schedules")
    for command in commands.choices.values():
        command.add_argument("--json", action="store_true", help="machine-readable output")


def _policies(sub: Subparsers) -> None:
    policy = sub.add_parser("policy", help="check or explain a policy file")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True, parser_class=Parser)
    check = policy_sub.add_parser("check", help="validate a policy file")
    check.add_argument("file")
    explain = policy_sub.add_parser("explain", help="which rule decides a call, and why")
    explain.add_argument("file")
    explain.add_argument("--tool", required=True)
    explain.add_argument("--args", default="{}", help="the call's arguments as JSON")
    explain.add_argument(
        "--workspace", help="judge absolute paths against this workspace (an absolute path)"
    )


def _local(sub: Subparsers) -> None:
    dev = sub.add_parser(
        "dev",
        help="run a local Temporal dev server (Web UI on :8233) and a worker",
        epilog="examples:\n  taskcraft dev\n  taskcraft dev --port 7300   # Web UI on :8300",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dev.add_argument("--no-worker", action="store_true", help="start only the server")
    demo = sub.add_parser("demo", help="run the demo task end to end on the local dev server")
    demo.add_argument(
        "--agent", default="incident-report", help="incident-report (default) or workspace-analyst"
    )
    demo.add_argument("--approve-as", help="approve the demo's gate automatically as NAME")
    for local in (dev, demo):
        local.add_argument(
            "--port",
            type=int,
            help="the server's gRPC port (default: TEMPORAL_ADDRESS's port if local, else 7233)",
        )
        local.add_argument("--ui-port", type=int, help="the Web UI's port (default: --port + 1000)")
    sub.add_parser("worker", help="run a worker (same as python worker.py)")
    codec = sub.add_parser("codec-server", help="serve the Temporal UI's remote codec endpoints")
    codec.add_argument("--host", default="127.0.0.1")
    codec.add_argument("--port", type=int, default=8081)
    inbox = sub.add_parser("inbox", help="serve the approval inbox (web page) on localhost")
    inbox.add_argument("--host", default="127.0.0.1")
    inbox.add_argument("--port", type=int, default=8088)
    keys = sub.add_parser("codec", help="payload encryption keys")
    keys_sub = keys.add_subparsers(dest="codec_command", required=True, parser_class=Parser)
    keys_sub.add_parser("keygen", help="print a new random 256-bit key (base64)")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="taskcraft",
        description="Run and govern durable AI agent tasks on Temporal.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for add in (_start, _views, _decisions, _controls, _agents, _schedules, _policies, _local):
        add(sub)
    return parser
