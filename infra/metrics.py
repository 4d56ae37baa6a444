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
from collections.abc import AsyncIterator

import structlog
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from taskcraft.status import TaskStatus

log = structlog.stdlib.get_logger("taskcraft.metrics")

TASK_COUNT_INTERVAL_S = 30.0


def prometheus_runtime(port: int, host: str = "0.0.0.0") -> Runtime:
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=f"{host}:{port}", durations_as_seconds=True)
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
    if runtime is None:
        yield
        return
    job = asyncio.create_task(count_tasks_forever(client, runtime))
    try:
        yield
    finally:
        job.cancel()
