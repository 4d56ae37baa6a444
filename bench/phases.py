"""The measurements, each on the one shared server: Taskcraft, bare Temporal and the peer.

Bare Temporal runs through the shared bench's own functions (``bare_temporal.body_*``)
with its own worker process; the peer through ``peer/peer_bench.py``'s worker. Every
function here starts its worker, measures, and stops the worker by PID.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes

# isort: off
from bench.procs import ADDRESS, TC_QUEUE, WORKER_METRICS_PORT, TaskcraftWorker, TunedServer
import bare_temporal as bare  # the shared bench, on sys.path once bench.procs is imported
from bench_lib import CpuWindow, WorkerProc, proc_rss_mb, scrape, summarize
from fake_openai import FakeOpenAI

# isort: on
from bench.agent_defs import AGENT_NAME, goal
from bench.measure import step_gaps, task_history
from infra.connection import data_converter
from infra.settings import Settings
from taskcraft.approvals import Decision, DecisionKind
from taskcraft.status import TaskStatus
from taskcraft.task import TaskInput, TaskResult
from workflows.search_attributes import AGENT, STATUS

START_PARALLELISM = 100
PHASE_TIMEOUT_S = 900.0  # the shared bench's own waits
STALL_S = 120.0  # a parked-task phase with no progress for this long is reported as stalled


@dataclass
class Bench:
    client: Client  # Taskcraft's converter (pydantic + claim check)
    bare: Client  # the SDK's default converter, for the shared bench's workflows
    fake: FakeOpenAI
    server: TunedServer
    data_dir: Path
    log_level: str = "info"
    worker_args: tuple[str, ...] = ()  # experiments: --unsandboxed, --no-claim-check, ...
    worker_env: dict[str, str] = field(default_factory=dict)  # experiments: TASKCRAFT_*=...

    def cpu(self, worker_pid: int) -> CpuWindow:
        return CpuWindow({"server": self.server.pid, "worker": worker_pid, "driver": os.getpid()})

    def worker(
        self, *, gated: bool = False, can_after: int = 500, env: dict[str, str] | None = None
    ) -> TaskcraftWorker:
        return TaskcraftWorker(
            self.fake.base_url,
            self.data_dir,
            gated=gated,
            can_after=can_after,
            log_level=self.log_level,
            extra_args=self.worker_args,
            env={**self.worker_env, **(env or {})},
        ).start()


@contextlib.asynccontextmanager
async def open_bench(
    sqlite: Path,
    log_level: str = "info",
    worker_args: tuple[str, ...] = (),
    worker_env: dict[str, str] | None = None,
) -> AsyncIterator[Bench]:
    """One tuned server, one fake OpenAI server and a data dir, torn down on the way out."""
    data_dir = Path(tempfile.mkdtemp(prefix="tcbench-"))
    server = TunedServer(sqlite).start()
    fake = FakeOpenAI().start()
    try:
        yield Bench(
            client=await _connect(data_converter(Settings(data_dir=data_dir))),
            bare=await bare.connect(ADDRESS),
            fake=fake,
            server=server,
            data_dir=data_dir,
            log_level=log_level,
            worker_args=worker_args,
            worker_env=worker_env or {},
        )
    finally:
        fake.stop()
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


async def _connect(converter: Any) -> Client:
    """A client once the fresh server answers visibility queries (it takes a moment)."""
    deadline = time.time() + 60
    while True:
        try:
            client = await Client.connect(ADDRESS, data_converter=converter)
            await client.count_workflows()
            return client
        except Exception:
            if time.time() > deadline:
                raise
            await asyncio.sleep(0.25)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def start_task(b: Bench, conv: str, turns: int) -> WorkflowHandle[Any, TaskResult]:
    return await b.client.start_workflow(
        "AgentWorkflow",
        TaskInput(agent=AGENT_NAME, goal=goal(conv, turns)),
        id=f"tc-{conv}",
        task_queue=TC_QUEUE,
        result_type=TaskResult,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(AGENT, AGENT_NAME),
                SearchAttributePair(STATUS, TaskStatus.PENDING.value),
            ]
        ),
    )


async def tc_warmup(b: Bench) -> None:
    for _ in range(3):
        await (await start_task(b, new_id("warm"), 3)).result()


def per_step_cpu(cpu: dict[str, Any], steps: int) -> dict[str, float]:
    return {
        f"{who}_cpu_ms_per_step": 1000 * cpu[f"{who}_cpu_s"] / steps
        for who in ("server", "worker", "driver")
    }


# ----- Taskcraft ----------------------------------------------------------------------


async def tc_latency(b: Bench, steps: int) -> dict[str, Any]:
    """One task of ``steps`` tool steps (plus the final answer), alone on the worker."""
    worker = b.worker()
    try:
        await tc_warmup(b)
        conv = new_id(f"lat{steps}")
        window = b.cpu(worker.pid)
        t0 = time.time()
        result = await (await start_task(b, conv, steps + 1)).result()
        wall = time.time() - t0
        cpu = window.stop()
    finally:
        worker.stop()
    assert result.status is TaskStatus.COMPLETED, result
    return {"wall_s": wall, **step_gaps(b.fake.conversation(conv)), **per_step_cpu(cpu, steps)}


async def tc_throughput(b: Bench, concurrency: int, steps: int) -> dict[str, Any]:
    """``concurrency`` tasks at once, each ``steps`` tool steps plus the final answer."""
    worker = b.worker()
    try:
        await tc_warmup(b)
        sem = asyncio.Semaphore(START_PARALLELISM)
        convs = [new_id(f"thr{i}") for i in range(concurrency)]

        async def one(conv: str) -> TaskResult:
            async with sem:
                handle = await start_task(b, conv, steps + 1)
            return await handle.result()

        window = b.cpu(worker.pid)
        t0 = time.time()
        results = await asyncio.gather(*(one(conv) for conv in convs))
        wall = time.time() - t0
        cpu = window.stop()
        rss = proc_rss_mb(worker.pid)
    finally:
        worker.stop()
    done = sum(1 for r in results if r.status is TaskStatus.COMPLETED)
    gaps = [g for conv in convs for g in _gaps(b.fake.conversation(conv))]
    total = concurrency * steps
    return {
        "wall_s": wall,
        "steps_per_s": total / wall,
        "completed": done,
        "step_under_load": summarize(gaps),
        "worker_rss_mb": rss,
        "machine_busy_pct": cpu["machine"]["busy_pct"],
        **per_step_cpu(cpu, total),
    }


def _gaps(conv: list[dict[str, Any]]) -> list[float]:
    return [(conv[i + 1]["t"] - conv[i]["t"]) * 1000 for i in range(len(conv) - 1)]


async def tc_history(b: Bench, steps_list: list[int]) -> list[dict[str, Any]]:
    """One task per N; history bytes summed over every run (continue-as-new at 500)."""
    rows = []
    worker = b.worker()
    try:
        await tc_warmup(b)
        for steps in steps_list:
            conv = new_id(f"hist{steps}")
            t0 = time.time()
            handle = await start_task(b, conv, steps)
            result = await handle.result()
            wall = time.time() - t0
            assert result.status is TaskStatus.COMPLETED, result
            history = await task_history(b.client, handle.id, steps)
            gaps = step_gaps(b.fake.conversation(conv))
            rows.append({"steps": steps, "wall_s": wall, **history, **gaps})
            print(
                f"[taskcraft history n={steps}] {wall:.1f}s runs={len(history['runs'])} "
                f"bytes/step={history['bytes_per_step']:.0f}",
                flush=True,
            )
    finally:
        worker.stop()
    return rows


async def tc_parked(b: Bench, count: int, cache: int | None = None) -> dict[str, Any]:
    """``count`` tasks parked at a tool approval gate; approve all; count what completes.

    ``cache``: the worker's TASKCRAFT_MAX_CACHED_WORKFLOWS (None: the shipped default).
    A phase that makes no progress for ``STALL_S`` is recorded as stalled, not waited out.
    """
    env = {"TASKCRAFT_MAX_CACHED_WORKFLOWS": str(cache)} if cache else {}
    worker = b.worker(gated=True, env=env)
    out: dict[str, Any] = {"tasks": count, "max_cached_workflows": cache or "default"}
    sem = asyncio.Semaphore(START_PARALLELISM)
    try:
        base = scrape(WORKER_METRICS_PORT).get(bare.DONE_METRIC, 0.0)
        out["worker_rss_before_mb"] = proc_rss_mb(worker.pid)
        out["server_rss_before_mb"] = proc_rss_mb(b.server.pid)
        prefix = new_id("park")

        async def start(i: int) -> WorkflowHandle[Any, TaskResult]:
            async with sem:
                return await start_task(b, f"{prefix}-{i}", 2)

        window = b.cpu(worker.pid)
        t0 = time.time()
        handles = await asyncio.gather(*(start(i) for i in range(count)))
        out["start_all_s"] = time.time() - t0
        query = "TaskcraftStatus = 'AWAITING_APPROVAL' AND ExecutionStatus = 'Running'"
        t_parked, parked = await _wait_for(lambda: _count(b.client, query), count)
        out["all_parked_s"] = t_parked - t0
        out["parked"] = parked
        await asyncio.sleep(1.0)
        out["worker_rss_parked_mb"] = proc_rss_mb(worker.pid)
        out["server_rss_parked_mb"] = proc_rss_mb(b.server.pid)
        out["worker_cpu_s_to_park"] = window.stop()["worker_cpu_s"]

        approve = Decision(kind=DecisionKind.APPROVE, approver="bench")

        async def signal(handle: WorkflowHandle[Any, TaskResult]) -> None:
            async with sem:
                await handle.signal("decide", approve)

        window = b.cpu(worker.pid)
        t1 = time.time()
        await asyncio.gather(*(signal(h) for h in handles))
        out["signal_all_s"] = time.time() - t1
        t_done, done = await _wait_for(lambda: _metric(bare.DONE_METRIC), base + count)
        out["approve_to_all_complete_s"] = t_done - t1
        out["completed_by_worker"] = done - base
        out["worker_cpu_s_to_complete"] = window.stop()["worker_cpu_s"]
        out["worker_rss_after_mb"] = proc_rss_mb(worker.pid)
        out["stalled"] = parked < count or done < base + count
        metrics = scrape(WORKER_METRICS_PORT)
        out["worker_metrics_at_end"] = {
            k: v
            for k, v in metrics.items()
            if not k.endswith("_bucket")
            and any(part in k for part in ("slots", "pollers", "cache", "workflow_task"))
        }
    finally:
        worker.stop()
    # sdk-core's TMPRL1104: a workflow task took over 5 s from poll to completion (its
    # timeout is 10 s), i.e. workflow tasks queued in the worker.
    out["slow_workflow_task_warnings"] = worker.log_count("TMPRL1104")

    async def verify(handle: WorkflowHandle[Any, TaskResult]) -> bool:
        async with sem:
            result = await asyncio.wait_for(handle.result(), timeout=30)
        return result.status is TaskStatus.COMPLETED and result.steps == 2

    if out["stalled"]:
        # Unfinished tasks wait for a worker, they are not lost: count them by status.
        async def status(handle: WorkflowHandle[Any, TaskResult]) -> str:
            async with sem:
                described = await handle.describe()
            return described.status.name if described.status else "UNKNOWN"

        statuses = await asyncio.gather(*(status(h) for h in handles))
        counts = {name: statuses.count(name) for name in set(statuses)}
        out.update(statuses=counts, verified_ok=counts.get("COMPLETED", 0))
        out["lost"] = count - counts.get("COMPLETED", 0) - counts.get("RUNNING", 0)
    else:
        checks = await asyncio.gather(*(verify(h) for h in handles), return_exceptions=True)
        out["verified_ok"] = sum(1 for c in checks if c is True)
        out["lost"] = count - out["verified_ok"]
    return out


async def _count(client: Client, query: str) -> float:
    return float((await client.count_workflows(query)).count)


async def _metric(name: str) -> float:
    return scrape(WORKER_METRICS_PORT).get(name, 0.0)


async def _wait_for(read: Callable[[], Awaitable[float]], target: float) -> tuple[float, float]:
    """When ``read()`` reached ``target``, or stopped rising for STALL_S: (time, value)."""
    value, last_change = await read(), time.time()
    while value < target and time.time() - last_change < STALL_S:
        await asyncio.sleep(0.25)
        now = await read()
        if now > value:
            value, last_change = now, time.time()
    return (time.time() if value >= target else last_change), value


# ----- bare Temporal (the shared bench's own bodies and worker) -------------------------


def bare_args(**overrides: Any) -> argparse.Namespace:
    base: dict[str, Any] = {
        "mode": "activity",
        "start_parallelism": START_PARALLELISM,
        "phase_timeout": PHASE_TIMEOUT_S,
        "reply_bytes": 1024,
        "tool_bytes": 1024,
    }
    return argparse.Namespace(**{**base, **overrides})


async def bare_run(b: Bench, body: Any, **overrides: Any) -> dict[str, Any]:
    """One shared-bench body on this server, with a default (SDK settings) bare worker."""
    worker = WorkerProc(ADDRESS, bare.TQ, {}, metrics_port=WORKER_METRICS_PORT).start()
    try:
        await bare.warmup(b.bare)
        raw: dict[str, Any] = await body(bare_args(**overrides), b.bare, b.server, worker, 0)
    finally:
        worker.stop()
    return raw


# ----- the peer: pydantic-ai's Temporal integration -------------------------------------


async def peer_run(b: Bench, turns: int) -> dict[str, Any]:
    """pydantic-ai (TemporalDurability) on the same fake model: ``turns`` model requests."""
    # Imported here: only this section needs pydantic-ai (the bench extra).
    import peer_bench

    client = await peer_bench.connect(ADDRESS)
    worker = peer_bench.PeerWorker(ADDRESS, b.fake.base_url).start()
    try:
        for _ in range(3):
            conv = new_id("pwarm")
            await client.execute_workflow(
                "PeerAgentWorkflow",
                goal(conv, 3),
                id=f"peer-{conv}",
                task_queue=peer_bench.TQ,
                result_type=dict,
            )
        conv = new_id(f"peer{turns}")
        window = b.cpu(worker.pid)
        t0 = time.time()
        handle = await client.start_workflow(
            "PeerAgentWorkflow",
            goal(conv, turns),
            id=f"peer-{conv}",
            task_queue=peer_bench.TQ,
            result_type=dict,
        )
        status = "COMPLETED"
        try:
            await handle.result()
        except Exception as error:  # terminated by the 50 MiB history limit, typically
            status = f"FAILED: {error}; cause: {getattr(error, 'cause', None)}"
        wall = time.time() - t0
        cpu = window.stop()
        info = (await handle.describe()).raw_description.workflow_execution_info
        analysis = peer_bench.analyse_history(await handle.fetch_history())
    finally:
        worker.stop()
    gaps = step_gaps(b.fake.conversation(conv))
    reached = gaps["turns"]
    return {
        "turns_asked": turns,
        "status": status[:300],
        "wall_s": wall,
        "history_bytes": info.history_size_bytes,
        "history_events": info.history_length,
        "bytes_per_step": info.history_size_bytes / max(1, reached),
        "last_model_input_bytes": (analysis["model_input_bytes"] or [None])[-1],
        **gaps,
        **per_step_cpu(cpu, max(1, reached)),
    }
