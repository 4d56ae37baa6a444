"""The ``taskcraft`` command line: dispatch, and every error as one ``Error:`` line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence

from temporalio.service import RPCError

from cli import schedule_cmd, tasks
from cli.parser import build_parser
from infra.logging import configure_logging
from infra.settings import Settings
from taskcraft.errors import TaskcraftError
from taskcraft_client import TaskcraftClient

TaskCommand = Callable[[TaskcraftClient, argparse.Namespace], Awaitable[int]]

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
    "schedule": schedule_cmd.run,
}


async def _run_task_command(args: argparse.Namespace, settings: Settings) -> int:
    client = await TaskcraftClient.connect(settings)
    return await TASK_COMMANDS[args.command](client, args)


def _local_command(args: argparse.Namespace, settings: Settings) -> int:
    """Commands that need no connection to Temporal (or run servers of their own)."""
    if args.command == "agents":
        from cli import agents_cmd

        if args.agents_command == "list":
            return agents_cmd.list_agents(settings, args.json)
        return agents_cmd.check_paths(settings, args.paths)
    if args.command == "policy":
        from cli import policy_cmd

        if args.policy_command == "check":
            code, text = policy_cmd.check(args.file)
        else:
            code, text = policy_cmd.explain(
                args.file,
                args.tool,
                args.args,
                workspace_root=args.workspace,
                declared=policy_cmd.declared_by(args.tool, settings),
            )
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
    from infra.worker_process import main as worker_main

    return worker_main()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # What the CLI prints on stdout is its answer; library logs go to stderr, warnings only.
    # `agents check` connects to MCP servers to report each failure as one problem line,
    # so the connection's own warning would only say it twice.
    quiet = args.command == "agents"
    configure_logging(json_lines=False, level=logging.ERROR if quiet else logging.WARNING)
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
