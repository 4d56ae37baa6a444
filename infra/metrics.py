"""Prometheus metrics: the SDK's own, plus Taskcraft's, on one endpoint.

The SDK's runtime serves ``/metrics`` when given a Prometheus bind address; Taskcraft's
metrics go through the same runtime's meter, so there is one endpoint to scrape and no
extra library. Activity and workflow metrics are recorded where they happen (workflow
metrics through the replay-safe ``workflow.metric_meter()``); the task counts by status
come from a periodic visibility count, because a gauge of "tasks in each state" is a fact
about the cluster, not about one worker.

Metric names (all prefixed ``taskcraft_``):

    taskcraft_tasks{status}                          gauge: tasks in each status (visibility)
    taskcraft_model_calls{provider,model,outcome}    counter
    taskcraft_model_tokens{provider,model,direction} counter: input / output tokens
    taskcraft_tool_calls{tool,outcome}               counter: ok / error / refused
    taskcraft_policy_decisions{effect,rule}          counter: every allow, deny, approval
    taskcraft_approval_wait_seconds{kind}            histogram: gate asked → decided
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import structlog
from temporalio.client import Client
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from taskcraft.status import TaskStatus

log = structlog.stdlib.get_logger("taskcraft.metrics")

TASK_COUNT_INTERVAL_S = 30.0


CORE_LOGGER = "temporalio.core"


def worker_runtime(metrics_port: int, host: str = "0.0.0.0") -> Runtime:
    """The worker's Temporal runtime: Core's logs forwarded, Prometheus metrics on a port.

    By default Core writes its warnings to stdout from the thread that drives every
    workflow, so a stdout nobody reads (a pipe a supervisor stopped draining) would
    stall the whole worker once the pipe fills. Forwarded, they go through Python
    logging and come out as JSON lines on stderr with the rest of the worker's log.
    """
    metrics = (
        PrometheusConfig(bind_address=f"{host}:{metrics_port}", durations_as_seconds=True)
        if metrics_port
        else None
    )
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER)),
            ),
            metrics=metrics,
        )
    )


async def count_tasks_forever(
    client: Client, runtime: Runtime, interval_s: float = TASK_COUNT_INTERVAL_S
) -> None:
    """Keep ``taskcraft_tasks{status}`` current; a failed count is logged, not fatal."""
    gauge = runtime.metric_meter.create_gauge(
        "taskcraft_tasks", "Tasks in each Taskcraft status (from visibility)"
    )
    while True:
        for status in TaskStatus:
            try:
                counted = await client.count_workflows(f"TaskcraftStatus = '{status.value}'")
            except Exception as error:  # a visibility hiccup must not stop the worker
                log.warning("metrics.count_failed", status=status.value, error=str(error))
                continue
            gauge.set(counted.count, {"status": status.value})
        await asyncio.sleep(interval_s)


@contextlib.asynccontextmanager
async def task_counter(client: Client, runtime: Runtime | None) -> AsyncIterator[None]:
    """Counts tasks by status into the runtime's metrics; with no metrics (None), nothing."""
    if runtime is None:
        yield
        return
    job = asyncio.create_task(count_tasks_forever(client, runtime))
    try:
        yield
    finally:
        job.cancel()
