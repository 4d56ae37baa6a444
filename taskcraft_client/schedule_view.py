"""A schedule as ``taskcraft schedule show`` and ``list`` present it, text and JSON alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from taskcraft.schedules import OverlapPolicy, ScheduleDefinition


@dataclass(frozen=True)
class RunningTask:
    task_id: str
    status: str  # TaskStatus value, or "-" when it could not be read
    detail: str = ""


@dataclass(frozen=True)
class ScheduleView:
    """A schedule as ``show`` and ``list`` present it."""

    definition: ScheduleDefinition
    source: str
    goal: str
    task_queue: str
    paused: bool
    note: str
    next_runs: list[datetime]
    recent: list[tuple[datetime, str]]  # (the time it fired for, the task id)
    running: list[RunningTask]
    skipped_overlap: int
    missed_catch_up: int

    @property
    def overlap_note(self) -> str:
        """What the overlap policy does next, in words: the skip while a task waits."""
        policy = self.definition.overlap
        if not self.running:
            return f"{policy.value}: nothing is running"
        waiting = ", ".join(f"{task.task_id} is {task.status}" for task in self.running)
        if policy is OverlapPolicy.SKIP:
            return f"skip: the next firing is skipped while the last task runs ({waiting})"
        if policy is OverlapPolicy.BUFFER_ONE:
            return f"buffer_one: the next firing waits for the running task ({waiting})"
        return f"allow_all: the next firing runs beside the running task ({waiting})"

    def to_json(self) -> dict[str, Any]:
        return {
            **self.definition.model_dump(mode="json"),
            "timing": self.definition.timing,
            "goal": self.goal,
            "source": self.source,
            "task_queue": self.task_queue,
            "paused": self.paused,
            "note": self.note,
            "next_runs": [moment.isoformat() for moment in self.next_runs],
            "recent": [{"scheduled_at": at.isoformat(), "task_id": t} for at, t in self.recent],
            "running": [vars(task) for task in self.running],
            "overlap_note": self.overlap_note,
            "skipped_overlap": self.skipped_overlap,
            "missed_catch_up": self.missed_catch_up,
        }
