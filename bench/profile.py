#!/usr/bin/env python3
"""Where the Taskcraft worker's CPU goes: py-spy on the worker during the throughput load.

    python bench/profile.py [--concurrency 50] [--steps 10] [--rounds 2] [--top 30]

Starts the tuned server, the fake model and bench/worker.py (as bench/run.py does), warms
up, then samples the worker with ``py-spy record --format raw`` while C tasks of S steps
run, ``--rounds`` times. Prints the functions with the most samples, by self time and by
inclusive time, and writes the raw stacks to bench/results/profile.txt (load it into
speedscope or flamegraph.pl for the picture).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# isort: off
# bench.procs first: it puts ../shared/bench on sys.path for the imports below.

# isort: on
from bench import phases

RESULTS = Path(__file__).resolve().parent / "results"
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")


def frame_name(frame: str) -> str:
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match['func']} ({path})"


def summarize(raw: Path, top: int) -> str:
    self_counts: collections.Counter[str] = collections.Counter()
    incl_counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame_name(f) for f in stack.split(";")]
        total += count
        self_counts[frames[-1]] += count
        for name in set(frames):
            incl_counts[name] += count
    lines = [f"{total} samples", "", "self:"]
    lines += [f"  {100 * c / total:5.1f}%  {name}" for name, c in self_counts.most_common(top)]
    lines += ["", "inclusive:"]
    lines += [f"  {100 * c / total:5.1f}%  {name}" for name, c in incl_counts.most_common(top)]
    return "\n".join(lines)


async def profile(a: argparse.Namespace) -> Path:
    out = RESULTS / "profile.txt"
    RESULTS.mkdir(exist_ok=True)
    async with phases.open_bench(
        Path("/tmp/tcbench-profile.sqlite"), log_level=a.worker_log_level
    ) as b:
        worker = b.worker()
        try:
            await phases.tc_warmup(b)
            spy = await asyncio.create_subprocess_exec(
                *("py-spy", "record", "--pid", str(worker.pid), "--rate", "250"),
                *("--format", "raw", "--output", str(out), "--nonblocking"),
                *(["--gil"] if a.gil else []),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            await asyncio.sleep(1.0)
            for _ in range(a.rounds):
                convs = [phases.new_id(f"prof{i}") for i in range(a.concurrency)]
                handles = [await phases.start_task(b, c, a.steps + 1) for c in convs]
                await asyncio.gather(*(h.result() for h in handles))
            spy.send_signal(signal.SIGINT)
            await asyncio.wait_for(spy.wait(), timeout=60)
        finally:
            worker.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--concurrency", "-c", type=int, default=50)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--gil", action="store_true", help="only samples holding the GIL (CPU)")
    ap.add_argument("--worker-log-level", default="info", choices=["debug", "info", "warning"])
    a = ap.parse_args()
    raw = asyncio.run(profile(a))
    print(summarize(raw, a.top))


if __name__ == "__main__":
    main()
