"""AgentWorkflow: plan → act → observe, one durable step at a time.

Each model turn and each tool call is an activity; the conversation lives in the blob
store and travels as a reference, so history grows by what each step adds and nothing
more. The task continues as new when Temporal suggests it (or every
``AgentSpec.continue_as_new_after_steps`` steps, pinned at start), carrying its record
forward. Handlers: see ``TaskWorkflow``.
"""

from __future__ import annotations

from temporalio import workflow

from taskcraft.approvals import DecisionKind, GateKind
from taskcraft.messages import Message
from taskcraft.status import TaskStatus
from taskcraft.task import TaskInput, TaskResult
from workflows.task import TaskRun, TaskWorkflow


@workflow.defn(name="AgentWorkflow")
class AgentWorkflow(TaskWorkflow):
    """The generic agent loop every agent runs unless its file names another workflow."""

    @workflow.run
    async def run(self, inp: TaskInput) -> TaskResult:
        task = self.task
        return await task.guard(lambda: _loop(task))


async def _loop(task: TaskRun) -> TaskResult:
    await task.initialize()
    task.set_status(TaskStatus.RUNNING)
    while True:
        step = await task.next_turn(may_continue_as_new=True)
        message = await step.model_turn()
        if not message.tool_calls:
            answer = await _final_answer(task, message.content)
            step.finish()
            if answer is not None:
                return task.complete(answer)
            continue
        outcomes = await step.call_tools(message.tool_calls)
        task.say(*(outcome.message for outcome in outcomes))
        step.finish()


async def _final_answer(task: TaskRun, text: str) -> str | None:
    """The answer to complete with, or None when a human sent the draft back for revision."""
    if not task.pinned_agent.spec.approve_final_answer:
        return text
    verdict = await task.gates.ask(
        kind=GateKind.CHECKPOINT,
        title="final answer",
        reason="this agent's final answer is held for approval",
        draft=text,
    )
    if verdict.kind is DecisionKind.APPROVE:
        return text
    if verdict.kind is DecisionKind.EDIT and verdict.draft:
        return verdict.draft
    task.say(
        Message.user(
            f"Your answer was not approved ({verdict.approver}): "
            f"{verdict.reason or 'no reason given'}. Revise it."
        )
    )
    return None
