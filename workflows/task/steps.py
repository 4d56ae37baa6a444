"""A step: one model turn (or one turn the workflow plans itself) and the tool calls it makes.

The step's record is the task's timeline entry: what the model said, which calls it
made, what came of each. Workflow code works through a ``Step``; it never edits the
record itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from temporalio import workflow

from taskcraft.approvals import DecisionRecord
from taskcraft.calls import ModelCallInput, StopReason
from taskcraft.errors import TaskFailedError
from taskcraft.messages import Message, ToolCall
from taskcraft.task import StepRecord, ToolCallRecord
from workflows.task.model_route import call_model
from workflows.task.tool_calls import ToolCallOutcome, run_tool_call

if TYPE_CHECKING:
    from workflows.task.run import TaskRun

# What a step's "model" column says when the workflow, not a model, chose the calls.
PLANNED = "workflow"
# Marks tasks whose turns run their tool calls at once (older ones ran them in order).
PARALLEL_TOOL_CALLS = "parallel-tool-calls"

# Histories recorded before cut-off and filtered answers were handled carry no marker for
# this patch: they replay taking every answer as final, as the code then did.
STOP_REASON_PATCH = "model-answer-stop-reasons"
# How often one turn's answer may be continued (or asked for again) after a cut-off.
MAX_CONTINUATIONS = 3
CONTINUE = (
    "Your answer was cut off at your output limit. Continue exactly where it stopped: "
    "no repetition, no preamble."
)
ASK_AGAIN = (
    "Your answer was cut off at your output limit before it was complete, so it was "
    "discarded and none of its tool calls was run. Answer again, more briefly: fewer or "
    "shorter tool calls."
)


class Step:
    def __init__(self, task: TaskRun, record: StepRecord) -> None:
        self._task = task
        self.record = record

    @property
    def number(self) -> int:
        return self.record.step

    async def model_turn(self, *, offer_tools: bool = True) -> Message:
        """One model answer on the task's conversation, with what it sent and cost recorded.

        The messages said since the last turn go out as the delta; the reply's
        conversation reference replaces the task's, so the next turn sends only what was
        added since. ``offer_tools=False`` asks for text only (the workflow makes the calls).

        An answer cut off at the model's output limit is never taken as it is: its text is
        continued (the partial answer stays in the conversation, the model is asked to go
        on exactly where it stopped, the pieces are joined), and one cut off inside a tool
        call is dropped and asked for again, so a partial call never runs; after
        ``MAX_CONTINUATIONS`` the task fails. An answer the provider's content filter
        stopped fails the task, naming the provider's reason.
        """
        task = self._task
        spec = task.pinned_agent.spec
        record = self.record
        conversation_ref, said = task.conversation_ref, task.take_said()
        pieces: list[str] = []
        while True:
            reply, failures = await call_model(
                task,
                spec.route_for_step(self.number),
                ModelCallInput(
                    task_id=task.state.task_id,
                    step=self.number,
                    model=spec.model_route[0],
                    agent=spec.name,
                    tools_ref=task.tools_ref if offer_tools else None,
                    conversation_ref=conversation_ref,
                    new_messages=said,
                ),
                spec.recovery,
            )
            task.answered(reply)
            record.text = "".join(pieces) + reply.message.content
            record.model = reply.model
            record.offline = reply.offline
            record.failovers += failures
            record.model_finished_at = workflow.now()
            record.usage = record.usage + reply.usage
            # Histories from before the patch took every answer as it came.
            if reply.stop_reason is StopReason.END or not workflow.patched(STOP_REASON_PATCH):
                return reply.message.model_copy(update={"content": record.text})
            record.stop_reason, record.stop_detail = reply.stop_reason, reply.stop_detail
            if reply.stop_reason is StopReason.CONTENT_FILTER:
                raise TaskFailedError(
                    f"{reply.model} stopped its answer at the provider's content filter "
                    f"({reply.stop_detail}) at step {self.number}; the answer was not used"
                )
            if record.continuations >= MAX_CONTINUATIONS:
                raise TaskFailedError(
                    f"{reply.model}'s answer at step {self.number} was still cut off at its "
                    f"output limit ({reply.stop_detail}) after {MAX_CONTINUATIONS} "
                    "continuations; raise the model's output limit or ask for a shorter answer"
                )
            record.continuations += 1
            if reply.message.tool_calls or not reply.message.content:
                # Cut off inside a tool call (or before a word): never run a partial call;
                # forget this answer and ask again from the conversation before it.
                record.text = "".join(pieces)
                said = [*said, Message.user(ASK_AGAIN)]
            else:
                pieces.append(reply.message.content)
                conversation_ref, said = reply.conversation_ref, [Message.user(CONTINUE)]

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any],
        *,
        call_id: str | None = None,
        standing_approval: DecisionRecord | None = None,
    ) -> ToolCallOutcome:
        """A call the workflow makes itself: governed exactly like one the model asked for.

        ``standing_approval`` is a decision already made for exactly this call (say, the
        approval of the draft this call sends): it answers the gate the policy would
        otherwise open, when the rule accepts its approver.
        """
        call = ToolCall(
            id=call_id or f"{name}-{self.number}",
            name=name,
            arguments=json.dumps(arguments, sort_keys=True),
        )
        return await self._run(call, standing_approval)

    async def call_tools(self, calls: Sequence[ToolCall]) -> list[ToolCallOutcome]:
        """The model's calls, outcomes in the model's order.

        Up to the agent's ``max_parallel_tool_calls`` run at once: the calls the policy
        allows go ahead together while a gated one waits for its decision (gates are
        asked one at a time). Per-tool budgets count every call of the turn, in order.
        Tasks that started before calls ran in parallel keep running them one by one.
        """
        if len(calls) < 2 or not workflow.patched(PARALLEL_TOOL_CALLS):
            return [await self._run(call) for call in calls]
        spec = self._task.pinned_agent.spec
        limit = asyncio.Semaphore(spec.max_parallel_tool_calls)
        over_budget = self._task.over_tool_budget(calls)

        async def one(call: ToolCall) -> ToolCallOutcome:
            async with limit:
                return await self._run(call, refusal=over_budget.get(call.id))

        return list(await asyncio.gather(*(one(call) for call in calls)))

    async def _run(
        self,
        call: ToolCall,
        standing: DecisionRecord | None = None,
        *,
        refusal: str | None = None,
    ) -> ToolCallOutcome:
        record = ToolCallRecord(call_id=call.id, name=call.name, arguments=call.arguments)
        self.record.tool_calls.append(record)
        self._task.refresh_details()
        return await run_tool_call(
            self._task, call, record, standing_approval=standing, budget_refusal=refusal
        )

    def finish(self) -> None:
        self.record.finished_at = workflow.now()
