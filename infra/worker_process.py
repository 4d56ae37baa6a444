"""The worker process: connect, build the worker from the catalog, run until a signal.

``worker.py`` (and ``taskcraft worker``) run ``main``.

Connection settings come from Temporal's environment configuration (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, or a profile file); Taskcraft's own from
TASKCRAFT_* variables (see README). SIGINT or SIGTERM shuts it down gracefully: it stops
polling, lets running activities finish, then exits.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from contextlib import AsyncExitStack

import structlog

from infra.catalog import Catalog, catalog_for
from infra.connection import connect
from infra.logging import configure_logging
from infra.metrics import task_counter, worker_runtime
from infra.preflight import policy_warnings, route_warnings
from infra.settings import Settings
from infra.worker_factory import WorkerGroup, build_worker, open_http
from taskcraft.errors import TaskcraftError

log = structlog.stdlib.get_logger("taskcraft.worker")


async def run_worker(settings: Settings) -> None:
    runtime = worker_runtime(settings.metrics_port)
    client = await connect(settings, runtime)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with AsyncExitStack() as stack:
        http = await open_http(stack)
        catalog = catalog_for(settings)
        worker = build_worker(client, settings, http, catalog=catalog)
        _warn_about_late_errors(catalog, settings)
        if settings.default_route_is_fallback:
            log.warning(
                "worker.offline_model",
                note="TASKCRAFT_MODEL is not set: agents without a model route use the "
                "offline model (deterministic, no provider is called)",
            )
        log.info(
            "worker.started",
            task_queue=settings.task_queue,
            namespace=client.namespace,
            default_route=list(settings.default_route),
            workspace=str(settings.workspace),
            pid=os.getpid(),
            metrics=f":{settings.metrics_port}/metrics" if settings.metrics_port else "off",
        )
        async with worker, task_counter(client, runtime if settings.metrics_port else None):
            await _check_mcp_servers(worker)
            await stop.wait()
            log.info("worker.stopping")
    log.info("worker.stopped")


def _warn_about_late_errors(catalog: Catalog, settings: Settings) -> None:
    """Problems that would fail tasks later, said now (one line each, naming what to fix)."""
    searched = [(folder, "TASKCRAFT_POLICY_DIRS") for folder in settings.policy_dirs]
    searched += [
        (loaded.policy_dir, f"the agent folder {loaded.path}")
        for loaded in catalog.folders
        if loaded.policy_dir is not None
    ]
    for problem in policy_warnings(searched):
        log.warning("policy.invalid", problem=problem)
    for problem in route_warnings(catalog, settings.model_route(), settings.env):
        log.warning("model.unconfigured", problem=problem)


async def _check_mcp_servers(worker: WorkerGroup) -> None:
    """Say now, not at a task's first call, which configured MCP server cannot be reached."""
    if worker.mcp is None:
        return
    for server in worker.mcp.servers:
        problem = await worker.mcp.check(server)
        if problem is None:
            log.info("mcp.connected", server=server)
        else:
            log.warning("mcp.unreachable", server=server, problem=problem)


def main() -> int:
    configure_logging(json_lines=True)
    try:
        settings = Settings.from_env(os.environ)
        asyncio.run(run_worker(settings))
    except TaskcraftError as error:
        print(f"Error: {error}", file=sys.stderr)  # noqa: T201 - the one line a user reads
        return 2
    return 0
