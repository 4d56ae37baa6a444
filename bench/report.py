"""Markdown tables from one run's results (medians across reps, with [min-max])."""

from __future__ import annotations

import statistics
from typing import Any


def _vals(rows: list[dict[str, Any]], key: str) -> list[float]:
    return [r[key] for r in rows if isinstance(r.get(key), int | float)]


def med(rows: list[dict[str, Any]], key: str) -> float:
    vals = _vals(rows, key)
    return statistics.median(vals) if vals else float("nan")


def cell(rows: list[dict[str, Any]], key: str, fmt: str = "{:.2f}") -> str:
    vals = _vals(rows, key)
    if not vals:
        return "-"
    text = fmt.format(statistics.median(vals))
    if len(vals) > 1:
        text += f" [{fmt.format(min(vals))}-{fmt.format(max(vals))}]"
    return text


def latency_table(doc: dict[str, Any]) -> list[str]:
    tc, bare = doc["latency"]["taskcraft"], doc["latency"]["bare"]
    n = doc["args"]["steps"]
    lines = [
        f"### Per-step latency: one task of {n} steps, alone ({len(tc)} reps)",
        "",
        "| system | step p50 ms | step p95 ms | step mean ms | worker CPU ms/step "
        "| server CPU ms/step |",
        "|---|---|---|---|---|---|",
        f"| Taskcraft | {cell(tc, 'step_p50_ms')} | {cell(tc, 'step_p95_ms')} "
        f"| {cell(tc, 'step_mean_ms')} | {cell(tc, 'worker_cpu_ms_per_step')} "
        f"| {cell(tc, 'server_cpu_ms_per_step')} |",
        f"| bare Temporal | {cell(bare, 'k_step_p50_ms')} | {cell(bare, 'k_step_p95_ms')} "
        f"| {cell(bare, 'k_ms_per_step_avg')} | {cell(bare, 'k_worker_cpu_ms_per_step')} "
        f"| {cell(bare, 'k_server_cpu_ms_per_step')} |",
    ]
    p50, bp50 = med(tc, "step_p50_ms"), med(bare, "k_step_p50_ms")
    p95, bp95 = med(tc, "step_p95_ms"), med(bare, "k_step_p95_ms")
    lines += [
        "",
        f"Ratio Taskcraft / bare: p50 **{p50 / bp50:.2f}x** (+{p50 - bp50:.1f} ms), "
        f"p95 {p95 / bp95:.2f}x (+{p95 - bp95:.1f} ms). Taskcraft step split (p50): "
        f"model->tool {cell(tc, 'model_to_tool_p50_ms')} ms, tool->next model "
        f"{cell(tc, 'tool_to_next_model_p50_ms')} ms.",
        "",
    ]
    return lines


def throughput_table(doc: dict[str, Any]) -> list[str]:
    tc, bare = doc["throughput"]["taskcraft"], doc["throughput"]["bare"]
    c, s = doc["args"]["concurrency"], doc["args"]["throughput_steps"]
    lines = [
        f"### Throughput: {c} tasks at once x {s} steps ({len(tc)} reps)",
        "",
        "| system | steps/s | wall s | step p50 under load ms | worker CPU ms/step "
        "| server CPU ms/step | machine busy % |",
        "|---|---|---|---|---|---|---|",
        f"| Taskcraft | {cell(tc, 'steps_per_s', '{:.1f}')} | {cell(tc, 'wall_s')} "
        f"| {cell([r['step_under_load'] for r in tc], 'p50', '{:.1f}')} "
        f"| {cell(tc, 'worker_cpu_ms_per_step')} | {cell(tc, 'server_cpu_ms_per_step')} "
        f"| {cell(tc, 'machine_busy_pct', '{:.0f}')} |",
        f"| bare Temporal | {cell(bare, 'k_steps_per_s', '{:.1f}')} | {cell(bare, 'k_wall_s')} "
        f"| {cell(bare, 'k_step_p50_ms_under_load', '{:.1f}')} "
        f"| {cell(bare, 'k_worker_cpu_ms_per_step')} | {cell(bare, 'k_server_cpu_ms_per_step')} "
        f"| {cell(bare, 'k_machine_busy_pct', '{:.0f}')} |",
        "",
        f"Ratio Taskcraft / bare: **{med(tc, 'steps_per_s') / med(bare, 'k_steps_per_s'):.0%}**"
        f" of bare throughput. A Taskcraft task also runs its pin activity and a final "
        f"model-only turn, counted in the wall time but not as steps.",
        "",
    ]
    return lines


def history_table(doc: dict[str, Any]) -> list[str]:
    tc = doc["history"]["taskcraft"]
    bare = doc["history"]["bare_delta"]
    peers = {r["turns_asked"]: r for r in doc.get("peer", [])}
    lines = [
        "### History bytes per step (2,000-byte tool output per step)",
        "",
        "| steps | Taskcraft bytes/step (all runs / steps) | runs | added per step near the "
        "end | largest activity input | peer bytes/step | peer status |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in tc:
        n = row["steps"]
        by_step = {int(k): v for k, v in row["marginal_bytes_per_step"].items()}  # JSON: str
        marginal = by_step[max(k for k in by_step if k <= n)]
        peer = peers.get(n)
        peer_cells = (
            f"{peer['bytes_per_step']:,.0f} | {peer['status'][:40]} (turn {peer['turns']})"
            if peer
            else "- | -"
        )
        lines.append(
            f"| {n} | {row['bytes_per_step']:,.0f} | {len(row['runs'])} | {marginal:,.0f} "
            f"| {row['largest_activity_input_bytes']:,} | {peer_cells} |"
        )
    first, last = tc[0], tc[-1]
    lines += [
        "",
        f"Flatness: {last['steps']} steps cost {last['bytes_per_step']:,.0f} B/step against "
        f"{first['bytes_per_step']:,.0f} at {first['steps']} "
        f"(**{last['bytes_per_step'] / first['bytes_per_step']:.2f}x**). Per run: "
        + "; ".join(
            f"{row['steps']} steps: "
            + ", ".join(f"{r['turns']} turns {r['bytes_server']:,} B" for r in row["runs"])
            for row in tc
        )
        + ".",
        "Bare Temporal with delta inputs (1 KB reply + 1 KB tool result per step, no "
        "agent): "
        + "; ".join(
            f"{r['k_history_bytes_server'] / r['steps']:,.0f} B/step at {r['steps']} steps"
            for r in bare
        )
        + ".",
        "",
    ]
    return lines


def peer_table(doc: dict[str, Any]) -> list[str]:
    tc = {r["steps"]: r for r in doc.get("history", {}).get("taskcraft", [])}
    lines = [
        "### Peer: pydantic-ai + Temporal on the same model server and tool",
        "",
        "| steps asked | system | turns reached | step p50 ms | step p95 ms | last 10% p50 ms "
        "| history bytes | bytes/step | status |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for peer in doc.get("peer", []):
        n = peer["turns_asked"]
        lines.append(
            f"| {n} | pydantic-ai | {peer['turns']} | {peer['step_p50_ms']:.1f} "
            f"| {peer['step_p95_ms']:.1f} | {peer['last10pct_p50_ms']:.1f} "
            f"| {peer['history_bytes']:,} | {peer['bytes_per_step']:,.0f} | {peer['status'][:50]} |"
        )
        ours = tc.get(n)
        if ours:
            lines.append(
                f"| {n} | Taskcraft | {ours['turns']} | {ours['step_p50_ms']:.1f} "
                f"| {ours['step_p95_ms']:.1f} | {ours['last10pct_p50_ms']:.1f} "
                f"| {ours['total_bytes']:,} | {ours['bytes_per_step']:,.0f} | COMPLETED |"
            )
    lines.append("")
    return lines


def parked_table(doc: dict[str, Any]) -> list[str]:
    parked = doc["parked"]
    bare = parked["bare"] or {}
    columns = [("Taskcraft, shipped settings", parked["taskcraft"])]
    if parked.get("taskcraft_big_cache"):
        big = parked["taskcraft_big_cache"]
        columns.append((f"Taskcraft, cache {big['max_cached_workflows']}", big))
    keys = [
        ("start all (s)", "start_all_s", "k_start_all_s"),
        ("all parked, from first start (s)", "all_parked_s", "k_all_parked_s"),
        ("signal all (s)", "signal_all_s", "k_signal_all_s"),
        (
            "approve all -> all completed (s)",
            "approve_to_all_complete_s",
            "k_signal_to_all_complete_s",
        ),
        ("worker RSS before (MB)", "worker_rss_before_mb", "k_worker_rss_before_mb"),
        ("worker RSS parked (MB)", "worker_rss_parked_mb", "k_worker_rss_parked_mb"),
        ("server RSS parked (MB)", "server_rss_parked_mb", "k_server_rss_parked_mb"),
        ("worker CPU s to park all", "worker_cpu_s_to_park", None),
        ("worker CPU s to complete all", "worker_cpu_s_to_complete", None),
        ("workflow tasks over 5 s (sdk-core TMPRL1104)", "slow_workflow_task_warnings", None),
        ("completed (verified)", "verified_ok", "k_verified_ok"),
        ("lost", "lost", "k_lost"),
    ]

    def fmt(value: Any) -> str:
        return f"{value:,.1f}" if isinstance(value, int | float) else "-"

    lines = [
        f"### {parked['taskcraft']['tasks']:,} tasks parked at an approval gate",
        "",
        "| | " + " | ".join(name for name, _ in columns) + " | bare Temporal (signal wait) |",
        "|---|" + "---|" * (len(columns) + 1),
    ]
    for label, ours, theirs in keys:
        cells = [fmt(col.get(ours)) for _, col in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {fmt(bare.get(theirs or ''))} |")
    for name, col in columns:
        if col.get("stalled"):
            lines.append(
                f"\n{name}: **stalled** (no progress for 120 s): parked {col.get('parked')}, "
                f"completed {col.get('completed_by_worker')}, statuses {col.get('statuses')}, "
                f"worker {col.get('worker_metrics_at_end')}"
            )
    lines += [
        "",
        "A Taskcraft task parks after pinning its agent, one model turn and the gate's "
        "notification (3 activities); after approval it runs the tool and a second model "
        "turn. The bare workflow parks on its first workflow task and ends on the signal.",
        "",
    ]
    return lines


def report(doc: dict[str, Any]) -> str:
    machine = doc["machine"]
    lines = [
        f"## Results {doc['when']} ({machine.get('nproc')} vCPU {machine.get('cpu', '')}, "
        f"Python {machine.get('python')}, temporalio {machine.get('temporalio')}, "
        f"{machine.get('temporal_cli', '').splitlines()[0] if machine.get('temporal_cli') else ''})",
        "",
    ]
    for section, table in (
        ("latency", latency_table),
        ("throughput", throughput_table),
        ("history", history_table),
        ("peer", peer_table),
        ("parked", parked_table),
    ):
        if section in doc:
            try:
                lines += table(doc)
            except (KeyError, ValueError, ZeroDivisionError) as error:
                lines += [f"({section}: no table: {error!r})", ""]
    return "\n".join(lines)
