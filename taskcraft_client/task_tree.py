"""A task with the child tasks its agent called, each with its own children, for reading.

``taskcraft history`` shows a child's steps nested where its parent called it; this is
the data it renders: every run of the task, and per ``call_agent_<name>`` call the child
task's own tree.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from taskcraft.errors import UnknownTaskError
from taskcraft.task import TaskState

# Deeper chains than any agent's max_agent_depth allows are not read.
MAX_TREE_DEPTH = 10


@dataclass(frozen=True)
class TaskTree:
    runs: list[TaskState]  # every run (continue-as-new), oldest first
    children: dict[str, TaskTree] = field(default_factory=dict)  # child task id → its tree

    @property
    def state(self) -> TaskState:
        return self.runs[-1]


async def read_tree(
    runs: Callable[[str], Awaitable[list[TaskState]]], task_id: str, depth: int = MAX_TREE_DEPTH
) -> TaskTree:
    states = await runs(task_id)
    children: dict[str, TaskTree] = {}
    called = [
        call.child_task_id
        for state in states
        for step in state.steps
        for call in step.tool_calls
        if call.child_task_id is not None
    ]
    for child_id in called if depth > 0 else []:
        try:
            children[child_id] = await read_tree(runs, child_id, depth - 1)
        except UnknownTaskError:  # started after the parent's record was read, or deleted
            continue
    return TaskTree(states, children)
