"""Long tasks: history grows by a constant per step, and the conversation travels by reference."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from pydantic import BaseModel
from temporalio.api.history.v1 import HistoryEvent

from taskcraft.agents import AgentSpec
from taskcraft.status import TaskStatus
from taskcraft.tools import Tool, ToolContext
from tests.support.fake_providers import FakeToolCall, reply
from tests.workflows.conftest import Harness

STEPS = 300
STEPS_PER_RUN = 100
OUTPUT_CHARS = 2_000
MODEL_ACTIVITY = "taskcraft.model.complete"


class NoopArgs(BaseModel):
    i: int = 0


def output(i: int) -> str:
    head = f"output of call {i}: "
    return head + "z" * (OUTPUT_CHARS - len(head))


async def _noop(args: NoopArgs, context: ToolContext) -> str:
    return output(args.i)


NOOP = Tool(name="noop", description="Returns 2 KB.", args_model=NoopArgs, run=_noop)


@pytest.fixture(autouse=True)
def open_policy(harness: Harness, tmp_path: Path) -> None:
    harness.allow_every_call(tmp_path / "policies")


def worker_agent(model: str | Mapping[str, object], **overrides: object) -> AgentSpec:
    return AgentSpec.model_validate(
        {
            "name": "long-runner",
            "instructions": "Call noop until told to stop.",
            "model_route": [model if isinstance(model, Mapping) else f"openai:{model}"],
            "tools": ["noop"],
            "policy": "open",
            **overrides,
        }
    )


def bytes_before_each_model_turn(events: list[HistoryEvent]) -> list[int]:
    """Cumulative history bytes at each model activity's scheduling, in order."""
    total, marks = 0, []
    for event in events:
        attributes = event.activity_task_scheduled_event_attributes
        if (
            event.HasField("activity_task_scheduled_event_attributes")
            and attributes.activity_type.name == MODEL_ACTIVITY
        ):
            marks.append(total)
        total += event.ByteSize()
    return marks


async def test_300_steps_over_three_runs_with_flat_history_per_step(harness: Harness) -> None:
    """300 steps of 2 KB outputs, 100 per run: every run's history costs the same per step."""
    model = harness.model()
    harness.providers.script(
        *(reply("", [FakeToolCall("noop", {"i": i}, id=f"n{i}")]) for i in range(1, STEPS)),
        reply("finished all 300"),
        model=model,
    )
    agent = worker_agent(model, max_steps=STEPS + 10, continue_as_new_after_steps=STEPS_PER_RUN)
    async with harness.worker([agent], tools=[NOOP]):
        handle = await harness.start(agent, "run long")
        result = await handle.result()
        runs = await harness.taskcraft().runs(handle.id)
        run_ids = [*runs[-1].previous_run_ids, (await handle.describe()).run_id]
        sizes, histories = [], []
        for run_id in run_ids:
            run = harness.client.get_workflow_handle(handle.id, run_id=run_id)
            info = (await run.describe()).raw_description.workflow_execution_info
            sizes.append(info.history_size_bytes)
            histories.append(list((await run.fetch_history()).events))

    assert result.status is TaskStatus.COMPLETED
    assert result.result == "finished all 300"
    assert result.steps == STEPS
    assert [[s.step for s in run.steps] for run in runs] == [
        list(range(1, 101)),
        list(range(101, 201)),
        list(range(201, 301)),
    ]
    per_step = [size / STEPS_PER_RUN for size in sizes]
    print("history bytes per step, per run:", [round(b) for b in per_step])
    # Each 2 KB output is in history twice (tool result, next model input) plus ~1-2 KB
    # of envelope; a re-sent conversation would be ~100x this by the end of a run.
    assert all(2 * OUTPUT_CHARS < b < 4 * OUTPUT_CHARS for b in per_step), per_step
    assert max(per_step) / min(per_step) < 1.1, per_step
    # Within a run, the 90th step costs what the 10th did.
    marks = bytes_before_each_model_turn(histories[0])
    assert len(marks) == STEPS_PER_RUN
    early = (marks[19] - marks[9]) / 10
    late = (marks[99] - marks[89]) / 10
    assert 0.9 < late / early < 1.1, (early, late)
    # The last turn saw all 299 observations, through a chain that crossed two runs.
    last = harness.providers.requests(model=model)[-1].body["messages"]
    observations = [m["content"] for m in last if m["role"] == "tool"]
    assert observations == [output(i) for i in range(1, STEPS)]


async def test_retried_model_turn_sends_identical_messages(harness: Harness) -> None:
    """The first attempt of turn 2 times out after the store was extended; the retry re-reads
    the same conversation by reference, so the provider sees the same messages twice."""
    model = harness.model()
    harness.providers.script(
        reply("", [FakeToolCall("noop", {"i": 1}, id="n1")]),
        reply("too late", delay_s=1.5),  # answered after the 1 s start-to-close timeout
        reply("on time"),
        model=model,
    )
    route = {
        "ref": f"openai:{model}",
        "retry": {"start_to_close_s": 1.0, "initial_interval_s": 0.1, "maximum_attempts": 3},
    }
    agent = worker_agent(route)
    async with harness.worker([agent], tools=[NOOP]):
        handle = await harness.start(agent, "go")
        result = await handle.result()
        state = await harness.state(handle)
    requests = harness.providers.requests(model=model)
    assert len(requests) == 3
    assert result.result == "on time"
    assert state.step == 2
    timed_out, retried = requests[1].body["messages"], requests[2].body["messages"]
    assert retried == timed_out
    assert [m["role"] for m in retried] == ["system", "user", "assistant", "tool"]
    assert retried[-1]["content"] == output(1)
