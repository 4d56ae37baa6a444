#!/usr/bin/env python3
"""Taskcraft against bare Temporal and a peer (pydantic-ai + Temporal), on one tuned server.

    python bench/run.py                                  # everything, about 15 minutes
    python bench/run.py --sections latency throughput    # some of it
    python bench/run.py --parked 1000 --reps 1 --tag quick

One ``temporal server start-dev`` with Taskcraft's tuning (the ``taskcraft dev`` command,
on the shared bench's ports 17233/17243/17253, worker metrics on 17263) and one loopback
fake OpenAI server (``shared/bench/peer/fake_openai.py``) serve every section. Each
measurement starts its own worker process and stops it by PID: the Taskcraft worker
(``bench/worker.py``), the bare-Temporal worker and workflows of ``shared/bench``, or the
peer's worker of ``shared/bench/peer``. Taskcraft and bare reps alternate.

Sections: latency (one task of N steps), throughput (C tasks at once), history (bytes
per step at 50/200/1000 steps), peer (pydantic-ai at 50 and 200 steps), parked (W tasks
at an approval gate, then approved). Results: bench/results/<tag>.json and <tag>.md.
Needs the bench extra: ``pip install -e '.[bench]'`` (pydantic-ai-slim for the peer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# isort: off
# bench.procs first: it puts ../shared/bench on sys.path for the imports below.
from bench.procs import SHARED_BENCH
import bare_temporal as bare
from bench_lib import machine_info, write_json

# isort: on
from bench import phases
from bench.report import report

RESULTS = Path(__file__).resolve().parent / "results"
SECTIONS = ["latency", "throughput", "history", "peer", "parked"]


async def run(a: argparse.Namespace) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "args": vars(a),
        "machine": machine_info(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "shared_bench": str(SHARED_BENCH),
    }
    out = RESULTS / f"{a.tag}.json"
    async with phases.open_bench(
        Path(f"/tmp/tcbench-{a.tag}.sqlite"),
        log_level=a.worker_log_level,
        worker_args=tuple(a.worker_args.split()),
        worker_env=dict(pair.split("=", 1) for pair in a.worker_env),
    ) as b:
        for section in a.sections:
            t0 = time.time()
            doc[section] = await SECTION_BODIES[section](b, a)
            doc[f"{section}_section_s"] = time.time() - t0
            print(f"== {section} done in {time.time() - t0:.0f}s", flush=True)
            write_json(out, doc)
    return doc


async def latency(b: phases.Bench, a: argparse.Namespace) -> dict[str, Any]:
    rows: dict[str, list[dict[str, Any]]] = {"taskcraft": [], "bare": []}
    for rep in range(a.reps):
        if not a.no_bare:
            r = await phases.bare_run(b, bare.body_latency, steps=a.steps)
            rows["bare"].append(r)
            print(
                f"[latency rep {rep}] bare p50={r['k_step_p50_ms']:.2f} "
                f"p95={r['k_step_p95_ms']:.2f} wkr={r['k_worker_cpu_ms_per_step']:.2f}",
                flush=True,
            )
        t = await phases.tc_latency(b, a.steps)
        rows["taskcraft"].append(t)
        print(
            f"[latency rep {rep}] taskcraft p50={t['step_p50_ms']:.2f} p95={t['step_p95_ms']:.2f} "
            f"wkr={t['worker_cpu_ms_per_step']:.2f}",
            flush=True,
        )
    return rows


async def throughput(b: phases.Bench, a: argparse.Namespace) -> dict[str, Any]:
    rows: dict[str, list[dict[str, Any]]] = {"taskcraft": [], "bare": []}
    c, s = a.concurrency, a.throughput_steps
    for rep in range(a.reps):
        if not a.no_bare:
            r = await phases.bare_run(b, bare.body_throughput, concurrency=c, steps=s)
            rows["bare"].append(r)
            print(
                f"[throughput rep {rep}] bare {r['k_steps_per_s']:.1f} steps/s "
                f"wkr={r['k_worker_cpu_ms_per_step']:.2f}",
                flush=True,
            )
        t = await phases.tc_throughput(b, c, s)
        rows["taskcraft"].append(t)
        print(
            f"[throughput rep {rep}] taskcraft {t['steps_per_s']:.1f} steps/s "
            f"wkr={t['worker_cpu_ms_per_step']:.2f}",
            flush=True,
        )
    return rows


async def history(b: phases.Bench, a: argparse.Namespace) -> dict[str, Any]:
    tc = await phases.tc_history(b, a.history_steps)
    bare_delta = []
    for n in (n for n in a.history_steps if n <= 200):
        row = await phases.bare_run(b, bare.body_history, steps=n, mode="delta")
        row.pop("per_step", None)
        bare_delta.append({"steps": n, **row})
    return {"taskcraft": tc, "bare_delta": bare_delta}


async def peer(b: phases.Bench, a: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for turns in a.peer_steps:
        rows.append(await phases.peer_run(b, turns))
        row = rows[-1]
        print(
            f"[peer n={turns}] {row['status'][:60]} turns={row['turns']} "
            f"p50={row['step_p50_ms']:.1f} bytes/step={row['bytes_per_step']:.0f}",
            flush=True,
        )
    return rows


async def parked(b: phases.Bench, a: argparse.Namespace) -> dict[str, Any]:
    tc = await phases.tc_parked(b, a.parked)
    print(f"[parked taskcraft] {json.dumps(tc)}", flush=True)
    big_cache = None
    if a.parked_cache:
        big_cache = await phases.tc_parked(b, a.parked, cache=a.parked_cache)
        print(f"[parked taskcraft, cache {a.parked_cache}] {json.dumps(big_cache)}", flush=True)
    bare_row = None
    if not a.no_bare:
        raw = await phases.bare_run(b, bare.body_parked, workflows=a.parked)
        bare_row = {k: v for k, v in raw.items() if k.startswith("k_")}
        print(f"[parked bare] {json.dumps(bare_row)}", flush=True)
    return {"taskcraft": tc, "taskcraft_big_cache": big_cache, "bare": bare_row}


SECTION_BODIES = {
    "latency": latency,
    "throughput": throughput,
    "history": history,
    "peer": peer,
    "parked": parked,
}


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sections", nargs="+", choices=SECTIONS, default=SECTIONS)
    ap.add_argument("--tag", default="latest")
    ap.add_argument("--reps", type=int, default=3, help="latency and throughput repetitions")
    ap.add_argument("--steps", type=int, default=200, help="latency: steps in the one task")
    ap.add_argument("--concurrency", "-c", type=int, default=50)
    ap.add_argument("--throughput-steps", type=int, default=10, help="steps per task")
    ap.add_argument("--history-steps", type=int, nargs="+", default=[50, 200, 1000])
    ap.add_argument("--peer-steps", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--parked", type=int, default=5000, help="tasks parked at a gate")
    ap.add_argument(
        "--parked-cache",
        type=int,
        default=0,
        help="also run the parked section with this TASKCRAFT_MAX_CACHED_WORKFLOWS",
    )
    ap.add_argument("--worker-log-level", default="info", choices=["debug", "info", "warning"])
    ap.add_argument(
        "--worker-args",
        default="",
        help="experiments, passed to bench/worker.py: --unsandboxed --no-claim-check --no-bytecode",
    )
    ap.add_argument(
        "--worker-env",
        nargs="*",
        default=[],
        metavar="NAME=VALUE",
        help="experiments: TASKCRAFT_* settings for the Taskcraft worker, e.g. "
        "TASKCRAFT_MAX_CONCURRENT_WORKFLOW_TASKS=100",
    )
    ap.add_argument("--no-bare", action="store_true", help="skip the bare-Temporal reps")
    a = ap.parse_args()
    doc = asyncio.run(run(a))
    text = report(doc)
    (RESULTS / f"{a.tag}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
