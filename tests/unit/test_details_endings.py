"""The Temporal UI's current details say how a task ended, not just that it did."""

from __future__ import annotations

from datetime import UTC, datetime

from taskcraft.details import RESULT_SHOWN_CHARS, render_details
from taskcraft.status import TaskStatus
from taskcraft.task import TaskState

AT = datetime(2026, 12, 5, 12, tzinfo=UTC)


def _state(status: TaskStatus, **fields: object) -> TaskState:
    return TaskState.model_validate(
        {"task_id": "t-1", "agent": "a", "goal": "g", "status": status, "step": 3, **fields}
    )


def test_a_completed_task_shows_its_result() -> None:
    text = render_details(_state(TaskStatus.COMPLETED, result="Filed the note 'Deploys'."))
    assert text.endswith("Completed after 3 steps. Result:\n\nFiled the note 'Deploys'.")


def test_a_long_result_says_where_the_rest_is() -> None:
    text = render_details(_state(TaskStatus.COMPLETED, result="x" * (RESULT_SHOWN_CHARS + 10)))
    assert text.endswith("… (10 more characters: `taskcraft status t-1`)")


def test_a_failed_task_shows_its_cause_and_a_cancelled_one_who_ended_it() -> None:
    failed = render_details(_state(TaskStatus.FAILED, error="budget max_steps exhausted"))
    assert failed.endswith("Failed after 3 steps: budget max_steps exhausted")
    cancelled = render_details(
        _state(TaskStatus.CANCELLED, status_detail="cancelled by an operator")
    )
    assert cancelled.endswith("Cancelled after 3 steps (cancelled by an operator).")
