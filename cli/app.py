"""The ``taskcraft`` command line: argument parsing and dispatch, errors as one line."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError

from cli import tasks
from infra.connection import connect
from infra.settings import Settings
from taskcraft.errors import TaskcraftError

EXAMPLES = """examples:
  taskcraft start workspace-analyst --goal "Summarise the workspace" --wait
  taskcraft start incident-report --goal "Weekly incident report" --input week=2026-W47
  taskcraft status workspace-analyst-1a2b3c4d
  taskcraft list --status AWAITING_APPROVAL
  taskcraft approve incident-report-1a2b3c4d --as alice --comment "ship it"
  taskcraft reject incident-report-1a2b3c4d --reason "leave out internal ticket numbers"
"""

TaskCommand = Callable[[Client, Settings, argparse.Namespace], Awaitable[int]]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2, like every other error."""

    def error(self, message: str) -> Any:
        self.exit(2, f"Error: {message} (see `{self.prog} --help`)\n")


def _task_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("task_id", metavar="ID", help="the task id (the Temporal workflow id)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="taskcraft",
        description="Run and govern durable AI agent tasks on Temporal.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    start = sub.add_parser(
        "start",
        help="start a task",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    start.add_argument("agent", help="the agent's name, e.g. workspace-analyst")
    start.add_argument(
        "--goal", help="what the agent should achieve (default: the agent's own purpose)"
    )
    start.add_argument(
        "--input", action="append", metavar="KEY=VALUE", help="a task input (repeatable)"
    )
    start.add_argument("--id", help="the task id (default: AGENT-<random>)")
    start.add_argument("--model", help="override the agent's model route: REF[,REF...]")
    start.add_argument("--policy", help="override the agent's policy by name")
    start.add_argument("--wait", action="store_true", help="wait for the task to finish")

    for name, help_text in [
        ("status", "show a task's status"),
        ("history", "show the thought/action/observation timeline"),
        ("audit", "show every policy decision"),
    ]:
        command = sub.add_parser(name, help=help_text)
        _task_id(command)
        command.add_argument("--json", action="store_true", help="machine-readable output")

    listing = sub.add_parser("list", help="list tasks (a visibility query)")
    listing.add_argument("--status", help="only tasks in this status")
    listing.add_argument("--agent", help="only tasks of this agent")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true")

    waiting = sub.add_parser("pending", help="tasks waiting for a human, oldest first")
    waiting.add_argument("--json", action="store_true")

    cancel = sub.add_parser("cancel", help="cancel a task (it ends CANCELLED, record intact)")
    _task_id(cancel)

    for name, help_text in [
        ("approve", "approve the pending gate"),
        ("reject", "reject the pending gate"),
        ("edit", "approve with changed arguments or a changed draft"),
    ]:
        command = sub.add_parser(name, help=help_text)
        _task_id(command)
        command.add_argument("--gate", help="the gate id (default: whichever is pending)")
        command.add_argument(
            "--as",
            dest="approver",
            default=os.environ.get("USER", "operator"),
            help="who decides (default: $USER)",
        )
        command.add_argument("--comment", default="")
        if name == "reject":
            command.add_argument("--reason", required=True, help="why; the agent is told")
        if name == "edit":
            command.add_argument("--args", help="replacement tool arguments as a JSON object")
            command.add_argument("--draft", help="replacement draft text")

    for name, help_text in [
        ("pause", "pause after the current step"),
        ("resume", "resume, or retry a RECOVERING task now"),
    ]:
        command = sub.add_parser(name, help=help_text)
        _task_id(command)
        command.add_argument("--by", default=os.environ.get("USER", "operator"))
    message = sub.add_parser("message", help="leave a note the model reads at its next turn")
    _task_id(message)
    message.add_argument("text")
    message.add_argument("--by", default=os.environ.get("USER", "operator"))

    policy = sub.add_parser("policy", help="check or explain a policy file")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True, parser_class=_Parser)
    check = policy_sub.add_parser("check", help="validate a policy file")
    check.add_argument("file")
    explain = policy_sub.add_parser("explain", help="which rule decides a call, and why")
    explain.add_argument("file")
    explain.add_argument("--tool", required=True)
    explain.add_argument("--args", default="{}", help="the call's arguments as JSON")

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
    keys_sub = keys.add_subparsers(dest="codec_command", required=True, parser_class=_Parser)
    keys_sub.add_parser("keygen", help="print a new random 256-bit key (base64)")
    return parser


TASK_COMMANDS: dict[str, TaskCommand] = {
    "start": tasks.start,
    "status": tasks.status,
    "history": tasks.history,
    "audit": tasks.audit,
    "list": tasks.list_tasks,
    "pending": tasks.pending,
    "cancel": tasks.cancel,
    "approve": tasks.decide,
    "reject": tasks.decide,
    "edit": tasks.decide,
    "pause": tasks.control,
    "resume": tasks.control,
    "message": tasks.control,
}


async def _run_task_command(args: argparse.Namespace, settings: Settings) -> int:
    client = await connect(settings)
    return await TASK_COMMANDS[args.command](client, settings, args)


def _local_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "policy":
        from cli import policy_cmd

        if args.policy_command == "check":
            code, text = policy_cmd.check(args.file)
        else:
            code, text = policy_cmd.explain(args.file, args.tool, args.args)
        print(text, file=sys.stderr if code else sys.stdout)
        return code
    if args.command == "codec-server":
        from infra.codec_server import serve_codec_server

        serve_codec_server(args.host, args.port, env=settings.env)
        return 0
    if args.command == "inbox":
        from cli.inbox_cmd import run_inbox

        return run_inbox(args, settings)
    if args.command == "codec":
        from infra.codec import generate_key

        print(generate_key())
        return 0
    if args.command in ("dev", "demo"):
        from cli import devenv

        return devenv.run(args, settings)
    import worker

    return worker.main()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
        if args.command in TASK_COMMANDS:
            return asyncio.run(_run_task_command(args, settings))
        return _local_command(args, settings)
    except TaskcraftError as error:
        tasks.print_error(str(error))
        return 2
    except RPCError as error:
        tasks.print_error(f"Temporal refused the request: {error.message}")
        return 2
    except KeyboardInterrupt:
        return 130
