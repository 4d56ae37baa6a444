"""The Taskcraft worker process for the benchmark (started and stopped by PID by bench/run.py).

    python bench/worker.py --address 127.0.0.1:17233 --task-queue tc --fake-url URL \\
        --data-dir DIR [--gated] [--metrics-port 17263] [--can-after N] [--log-level info]

Everything that matters comes from the project as shipped: ``Settings.from_env`` (so the
TASKCRAFT_* concurrency defaults apply), ``infra.connection.data_converter`` (pydantic,
claim check), ``build_worker`` (sandbox, passthrough) and ``worker.py``'s JSON logging.
Only the agent, the tool and the model endpoint are the benchmark's. Prints READY once
polling; exits cleanly on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import signal
import sys
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import temporalio.activity  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.runtime import (  # noqa: E402
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.worker import UnsandboxedWorkflowRunner  # noqa: E402

from bench.agent_defs import bench_agent, noop_tool, write_policy  # noqa: E402
from infra import worker_factory  # noqa: E402
from infra.connection import data_converter  # noqa: E402
from infra.logging import configure_logging  # noqa: E402
from infra.metrics import worker_runtime  # noqa: E402
from infra.settings import Settings  # noqa: E402
from infra.worker_factory import build_worker, open_http  # noqa: E402


def _eager_heartbeats() -> None:
    """Heartbeat the moment a call starts, as before ``with_heartbeats`` slept first."""
    from activities import heartbeat, model_activity, tool_activity

    async def with_heartbeats(work: Any, every_s: float = heartbeat.HEARTBEAT_EVERY_S) -> Any:
        async def beat() -> None:
            while True:
                temporalio.activity.heartbeat()
                await asyncio.sleep(every_s)

        beater = asyncio.create_task(beat())
        try:
            return await work
        finally:
            beater.cancel()

    model_activity.with_heartbeats = with_heartbeats  # type: ignore[attr-defined]
    tool_activity.with_heartbeats = with_heartbeats  # type: ignore[attr-defined]


def _dump_tasks(path: Path) -> None:
    """Every pending asyncio task and its stack, for a worker that looks stuck (SIGUSR1)."""
    tasks = asyncio.all_tasks()
    with path.open("w") as out:
        out.write(f"{len(tasks)} asyncio tasks\n")
        for task in tasks:
            out.write(f"\n--- {task.get_name()} {task.get_coro()!r}\n")
            task.print_stack(limit=12, file=out)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", default="127.0.0.1:17233")
    ap.add_argument("--task-queue", default="taskcraft-bench")
    ap.add_argument("--fake-url", required=True, help="base URL of the fake OpenAI server")
    ap.add_argument("--data-dir", required=True, type=Path)
    ap.add_argument("--metrics-port", type=int, default=17263)
    ap.add_argument("--gated", action="store_true", help="noop requires approval")
    ap.add_argument("--can-after", type=int, default=500, help="continue_as_new_after_steps")
    ap.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    # Experiments that measure a cost (README "Profile"), never the default:
    ap.add_argument("--unsandboxed", action="store_true", help="UnsandboxedWorkflowRunner")
    ap.add_argument("--no-claim-check", action="store_true", help="no external storage")
    ap.add_argument(
        "--no-bytecode",
        action="store_true",
        help="compile from source, as the Docker image did before it ran compileall",
    )
    ap.add_argument(
        "--eager-heartbeat", action="store_true", help="first heartbeat at once, not after 5 s"
    )
    ap.add_argument(
        "--core-log",
        default="WARN",
        choices=["WARN", "INFO", "DEBUG"],
        help="sdk-core's log level (to stderr); SIGUSR1 dumps asyncio tasks to --dump-file",
    )
    ap.add_argument("--dump-file", type=Path, default=Path("/tmp/tcbench-worker-tasks.txt"))
    a = ap.parse_args()
    if a.eager_heartbeat:
        _eager_heartbeats()
    if a.no_bytecode:
        # An empty cache prefix: no .pyc is found or written, as with PYTHONDONTWRITEBYTECODE
        # and a read-only source tree.
        sys.dont_write_bytecode = True
        sys.pycache_prefix = tempfile.mkdtemp(prefix="tcbench-nopyc-")
    if a.unsandboxed:
        worker_factory.workflow_runner = UnsandboxedWorkflowRunner  # type: ignore[assignment]

    configure_logging(json_lines=True, level=getattr(logging, a.log_level.upper()))
    env = {
        **os.environ,
        "TASKCRAFT_DATA_DIR": str(a.data_dir),
        "TASKCRAFT_WORKSPACE": str(a.data_dir / "workspace"),
        "TASKCRAFT_POLICY_DIRS": str(write_policy(a.data_dir / "policies")),
        "TASKCRAFT_TASK_QUEUE": a.task_queue,
        "OPENAI_BASE_URL": a.fake_url,
        "OPENAI_API_KEY": "bench",
    }
    settings = Settings.from_env(env)
    # As shipped (Core's logs forwarded to Python logging), unless a Core log level for
    # debugging the SDK itself is asked for.
    runtime = (
        worker_runtime(a.metrics_port, host="127.0.0.1")
        if a.core_log == "WARN"
        else Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(bind_address=f"127.0.0.1:{a.metrics_port}"),
                logging=LoggingConfig(
                    filter=TelemetryFilter(core_level=a.core_log, other_level="ERROR")
                ),
            )
        )
    )
    converter = data_converter(settings)
    if a.no_claim_check:
        converter = dataclasses.replace(converter, external_storage=None)
    client = await Client.connect(a.address, runtime=runtime, data_converter=converter)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, _dump_tasks, a.dump_file)
    async with AsyncExitStack() as stack:
        http = await open_http(stack)
        worker = build_worker(
            client,
            settings,
            http,
            agents=[bench_agent(continue_as_new_after_steps=a.can_after)],
            tools=[noop_tool(requires_approval=a.gated)],
        )
        async with worker:
            print("READY", flush=True)
            await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
