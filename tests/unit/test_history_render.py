"""``taskcraft history`` of a parent: each child task's steps nested where it was called."""

from __future__ import annotations

from datetime import UTC, datetime

from cli.render import render_history, render_status
from cli.tasks import history_json
from taskcraft.details import render_details
from taskcraft.status import TaskStatus
from taskcraft.task import StepRecord, TaskState, ToolCallRecord, ToolOutcome
from taskcraft_client import TaskTree

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def task(task_id: str, agent: str, *steps: StepRecord, parent: str | None = None) -> TaskState:
    return TaskState(
        task_id=task_id,
        agent=agent,
        goal=f"{agent}'s goal",
        status=TaskStatus.COMPLETED,
        steps=list(steps),
        parent_task_id=parent,
    )


def step(number: int, text: str, *calls: ToolCallRecord) -> StepRecord:
    return StepRecord(
        step=number, model="openai:m", text=text, tool_calls=list(calls), started_at=NOW
    )


def call(name: str, observation: str, child: str | None = None) -> ToolCallRecord:
    return ToolCallRecord(
        call_id=f"{name}-1",
        name=name,
        arguments="{}",
        outcome=ToolOutcome.OK,
        observation=observation,
        child_task_id=child,
    )


CHILD_ID = "lead-1/scout-1-1"
GRANDCHILD_ID = f"{CHILD_ID}/helper-1-1"
TREE = TaskTree(
    runs=[
        task(
            "lead-1",
            "lead",
            step(1, "Ask the scout.", call("call_agent_scout", "The facts: 42.", CHILD_ID)),
            step(2, "Both done."),
        )
    ],
    children={
        CHILD_ID: TaskTree(
            runs=[
                task(
                    CHILD_ID,
                    "scout",
                    step(1, "Ask for help.", call("call_agent_helper", "42", GRANDCHILD_ID)),
                    step(2, "The facts: 42."),
                    parent="lead-1",
                )
            ],
            children={
                GRANDCHILD_ID: TaskTree(
                    runs=[task(GRANDCHILD_ID, "helper", step(1, "42"), parent=CHILD_ID)]
                )
            },
        )
    },
)


def test_a_childs_steps_are_nested_in_place_and_its_own_children_deeper() -> None:
    text = render_history(TREE.runs, children=TREE.children, now=NOW, tz=UTC)
    lines = text.splitlines()
    action = lines.index("  action:  call_agent_scout {}")
    assert lines[action + 1 : action + 5] == [
        f"    │ {CHILD_ID} · scout · COMPLETED",
        "    │ Goal: scout's goal",
        "    │ Called by lead-1",
        "    │ ",
    ]
    assert f"    │     │ {GRANDCHILD_ID} · helper · COMPLETED" in lines
    observe = lines.index("  observe: [ok] The facts: 42.")
    child_step_2 = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("    │ Step 2 · openai:m · 0 tokens · ")
    )
    assert observe > child_step_2
    assert lines[observe + 1].startswith("Step 2 · openai:m · 0 tokens · ")


def test_without_children_the_timeline_is_as_before() -> None:
    plain = render_history(TREE.runs, now=NOW, tz=UTC)
    assert "│" not in plain
    assert "  observe: [ok] The facts: 42." in plain


def test_the_json_holds_each_child_under_its_call() -> None:
    data = history_json(TREE)
    child = data["steps"][0]["tool_calls"][0]["child"]
    assert (child["task_id"], child["parent_task_id"]) == (CHILD_ID, "lead-1")
    grandchild = child["steps"][0]["tool_calls"][0]["child"]
    assert grandchild["task_id"] == GRANDCHILD_ID


def test_status_names_the_parent_and_the_schedule() -> None:
    child = TREE.children[CHILD_ID].state.model_copy(
        update={"schedule": "weekly", "scheduled_at": NOW}
    )
    text = render_status(child, "http://ui", now=NOW, tz=UTC)
    assert "Parent    lead-1 (its agent called this one)" in text
    assert "Schedule  weekly, fired for Mon 23 Nov 09:00 UTC" in text


def test_the_ui_details_name_the_parent_and_the_children_still_running() -> None:
    waiting = call("call_agent_scout", "", CHILD_ID).model_copy(update={"outcome": None})
    done = call("call_agent_helper", "42", GRANDCHILD_ID)
    parent = task("lead-1", "lead", step(1, "", waiting, done), parent="boss-1").model_copy(
        update={"status": TaskStatus.RUNNING, "schedule": "weekly"}
    )
    parts = render_details(parent).split("\n\n")
    assert "Called by task `boss-1`" in parts
    assert "Started by schedule `weekly`" in parts
    assert f"Waiting for child tasks: `{CHILD_ID}`" in parts
