"""What the benchmark reads back: step gaps at the model server, history bytes across runs."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client

# isort: off
from bench.procs import SHARED_BENCH  # noqa: F401  (puts the shared bench on sys.path)
from bench_lib import pct, summarize

# isort: on
from taskcraft.task import TaskState

MODEL_ACTIVITY = "taskcraft.model.complete"


def step_gaps(conv: list[dict[str, Any]]) -> dict[str, Any]:
    """Gaps between consecutive model requests of one conversation, as the fake saw them.

    A gap is one step: the model activity answering, the workflow scheduling the tool, the
    tool activity, and the workflow scheduling the next model turn.
    """
    ts = [r["t"] for r in conv]
    gaps = [(ts[i + 1] - ts[i]) * 1000 for i in range(len(ts) - 1)]
    m2t = [
        (conv[i + 1]["tool_ts"] - conv[i]["t"]) * 1000
        for i in range(len(conv) - 1)
        if conv[i + 1]["tool_ts"]
    ]
    t2m = [
        (conv[i + 1]["t"] - conv[i + 1]["tool_ts"]) * 1000
        for i in range(len(conv) - 1)
        if conv[i + 1]["tool_ts"]
    ]
    tenth = max(1, len(gaps) // 10)
    return {
        "turns": len(conv),
        "step_p50_ms": pct(gaps, 50),
        "step_p95_ms": pct(gaps, 95),
        "step_mean_ms": sum(gaps) / len(gaps) if gaps else float("nan"),
        "model_to_tool_p50_ms": pct(m2t, 50),
        "tool_to_next_model_p50_ms": pct(t2m, 50),
        "first10pct_p50_ms": pct(gaps[:tenth], 50),
        "last10pct_p50_ms": pct(gaps[-tenth:], 50),
        "last_request_bytes": conv[-1]["req_bytes"] if conv else None,
        "gaps": summarize(gaps),
    }


async def run_ids(client: Client, task_id: str) -> list[str]:
    """Every run of a task, oldest first (the record lists the earlier ones)."""
    handle = client.get_workflow_handle(task_id)
    state: TaskState = await handle.query("state", result_type=TaskState)
    return [*state.previous_run_ids, (await handle.describe()).run_id]


def marginal(marks: list[int], step: int, window: int = 10) -> float | None:
    """History bytes added per step over the ``window`` steps before ``step`` (1-based)."""
    if step > len(marks) or step - 1 - window < 0:
        return None
    return (marks[step - 1] - marks[step - 1 - window]) / window


async def task_history(client: Client, task_id: str, steps: int) -> dict[str, Any]:
    """History bytes of every run of a task, with per-step marks across runs."""
    runs: list[dict[str, Any]] = []
    marks: list[int] = []  # history bytes (all runs so far) when each model turn is scheduled
    by_type: dict[str, int] = {}
    largest_payload = 0
    offset = 0
    for run_id in await run_ids(client, task_id):
        handle = client.get_workflow_handle(task_id, run_id=run_id)
        info = (await handle.describe()).raw_description.workflow_execution_info
        history = await handle.fetch_history()
        total, turns = 0, 0
        for event in history.events:
            kind = event.WhichOneof("attributes") or "none"
            if kind == "activity_task_scheduled_event_attributes":
                attributes = event.activity_task_scheduled_event_attributes
                if attributes.activity_type.name == MODEL_ACTIVITY:
                    marks.append(offset + total)
                    turns += 1
                for payload in attributes.input.payloads:
                    largest_payload = max(largest_payload, payload.ByteSize())
            size = event.ByteSize()
            total += size
            by_type[kind] = by_type.get(kind, 0) + size
        runs.append(
            {
                "run_id": run_id,
                "turns": turns,
                "events": info.history_length,
                "bytes_server": info.history_size_bytes,
                "bytes_events": total,
                "bytes_per_turn": info.history_size_bytes / max(1, turns),
            }
        )
        offset += total
    total_server = sum(r["bytes_server"] for r in runs)
    return {
        "steps": steps,
        "runs": runs,
        "total_bytes": total_server,
        "bytes_per_step": total_server / steps,
        "marginal_bytes_per_step": {
            k: marginal(marks, k) for k in (20, 50, 200, 500, 1000) if k <= len(marks)
        },
        "largest_activity_input_bytes": largest_payload,
        "bytes_by_event_type": by_type,
    }
