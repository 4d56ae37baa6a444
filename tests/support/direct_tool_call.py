"""A test-only workflow that sends a hand-made input straight to the tool activity.

It stands in for a buggy or stale workflow, to show the activity refuses on its own.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from taskcraft.calls import TOOL_ACTIVITY, ToolCallInput, ToolCallResult


@workflow.defn(name="DirectToolCall")
class DirectToolCall:
    @workflow.run
    async def run(self, call: ToolCallInput) -> ToolCallResult:
        result: ToolCallResult = await workflow.execute_activity(
            TOOL_ACTIVITY,
            call,
            result_type=ToolCallResult,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
        return result
