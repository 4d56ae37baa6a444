"""Calling a model through a route: retries per reference, failover, then RECOVERING.

Temporal retries each reference under its own retry policy (honouring Retry-After).
When a reference gives up, or fails for a provider-side reason, the next one gets the
same conversation reference, so no completed work is lost or repeated. When the whole
route is down the task waits on a durable timer in RECOVERING and tries again, until
its recovery window closes.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from taskcraft.agents import RecoverySettings
from taskcraft.calls import MODEL_ACTIVITY, ModelCallInput, ModelCallResult
from taskcraft.errors import ErrorType
from taskcraft.model_ref import ModelRef
from taskcraft.status import TaskStatus
from taskcraft.task import RecoveryInfo
from workflows.task_base import TaskFailedError, TaskWorkflowBase

MODEL_HEARTBEAT_TIMEOUT = timedelta(seconds=20)

# Failures a different provider would not fix: the request itself is wrong.
REQUEST_ERRORS = frozenset({ErrorType.MODEL_BAD_REQUEST, ErrorType.MODEL_CONTEXT_LENGTH})
NON_RETRYABLE = [
    ErrorType.MODEL_AUTH,
    ErrorType.MODEL_NOT_FOUND,
    ErrorType.MODEL_NOT_CONFIGURED,
    ErrorType.MODEL_BAD_REQUEST,
    ErrorType.MODEL_CONTEXT_LENGTH,
]


def _retry_policy(ref: ModelRef) -> RetryPolicy:
    retry = ref.retry
    return RetryPolicy(
        initial_interval=timedelta(seconds=retry.initial_interval_s),
        backoff_coefficient=retry.backoff_coefficient,
        maximum_interval=timedelta(seconds=retry.maximum_interval_s),
        maximum_attempts=retry.maximum_attempts,
        non_retryable_error_types=[str(kind) for kind in NON_RETRYABLE],
    )


def _describe(ref: ModelRef, error: ActivityError) -> tuple[str | None, str]:
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return cause.type, f"{ref.ref}: {cause.type}: {cause.message}"
    return None, f"{ref.ref}: {cause or error}"


async def call_model(
    task: TaskWorkflowBase,
    route: list[ModelRef],
    request: ModelCallInput,
    recovery: RecoverySettings,
) -> tuple[ModelCallResult, list[str]]:
    """The first answer along the route, and the failures passed on the way."""
    failures: list[str] = []
    recovery_started = None
    attempt = 0
    while True:
        for ref in route:
            try:
                result = await workflow.execute_activity(
                    MODEL_ACTIVITY,
                    request.model_copy(update={"model": ref}),
                    result_type=ModelCallResult,
                    start_to_close_timeout=timedelta(seconds=ref.retry.start_to_close_s),
                    heartbeat_timeout=MODEL_HEARTBEAT_TIMEOUT,
                    retry_policy=_retry_policy(ref),
                    summary=f"model {ref.ref} · step {request.step}",
                )
            except ActivityError as error:
                kind, text = _describe(ref, error)
                failures.append(text)
                if kind in REQUEST_ERRORS:
                    raise TaskFailedError(f"the model request was refused: {text}") from error
                continue
            if recovery_started is not None:
                task.state.recovery = None
                task.set_status(TaskStatus.RUNNING)
            return result, failures
        # Every reference failed: wait in RECOVERING, then try the route again.
        now = workflow.now()
        recovery_started = recovery_started or now
        gives_up_at = recovery_started + timedelta(seconds=recovery.window_s)
        delay = min(
            recovery.initial_delay_s * recovery.backoff_coefficient**attempt, recovery.max_delay_s
        )
        if now + timedelta(seconds=delay) > gives_up_at:
            raise TaskFailedError(
                f"every model in the route failed for {recovery.window_s:.0f}s; "
                f"last failure: {failures[-1]}"
            )
        attempt += 1
        task.state.recovery = RecoveryInfo(
            since=recovery_started,
            attempt=attempt,
            cause=failures[-1],
            next_try_at=now + timedelta(seconds=delay),
            gives_up_at=gives_up_at,
        )
        task.set_status(TaskStatus.RECOVERING, f"all models failed; retrying in {delay:.0f}s")
        task.take_wake()
        with contextlib.suppress(asyncio.TimeoutError):
            await workflow.wait_condition(
                task.wake_requested,
                timeout=timedelta(seconds=delay),
                timeout_summary="recovery: retry the model route",
            )
        task.take_wake()
        task.set_status(TaskStatus.RUNNING, "retrying the model route")
