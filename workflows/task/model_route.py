"""Calling a model through a route: retries per reference, failover, then RECOVERING.

Temporal retries each reference under its own retry policy (``ModelRef.retry``,
honouring Retry-After). When a reference gives up, times out, or fails for a
provider-side reason (auth, outage, unknown model, not configured), the next one gets
the same conversation reference, so no completed work is lost or repeated. A request the
provider refused as such (bad request, context too long) ends the task: another model
would refuse it too.

When the whole route is down the task waits in RECOVERING on a durable timer whose
delay grows (``RecoverySettings``), then tries the route again, until its recovery
window closes and it fails with the last failures as its cause. A ``resume`` signal
ends the wait early.

Model calls for a provider listed in ``PinnedAgent.model_queues`` go to that queue
(rate limited by its worker); the mapping was pinned at task start, so it is history.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    RetryState,
    is_cancelled_exception,
)
from temporalio.exceptions import TimeoutError as ActivityTimeoutError

from taskcraft.agents import RecoverySettings
from taskcraft.calls import MODEL_ACTIVITY, ModelCallInput, ModelCallResult
from taskcraft.errors import ErrorType, TaskFailedError
from taskcraft.model_ref import ModelRef
from taskcraft.task import RecoveryInfo

if TYPE_CHECKING:
    from workflows.task.run import TaskRun

# A long RECOVERING stretch fails over many times; the step record keeps the latest.
MAX_RECORDED_FAILURES = 20

# Failures a different provider would not fix: the request itself is wrong.
REQUEST_ERRORS = frozenset({ErrorType.MODEL_BAD_REQUEST, ErrorType.MODEL_CONTEXT_LENGTH})
NON_RETRYABLE = [
    ErrorType.MODEL_AUTH,
    ErrorType.MODEL_NOT_FOUND,
    ErrorType.MODEL_NOT_CONFIGURED,
    ErrorType.MODEL_BAD_REQUEST,
    ErrorType.MODEL_CONTEXT_LENGTH,
]


def retry_policy(ref: ModelRef) -> RetryPolicy:
    retry = ref.retry
    return RetryPolicy(
        initial_interval=timedelta(seconds=retry.initial_interval_s),
        backoff_coefficient=retry.backoff_coefficient,
        maximum_interval=timedelta(seconds=retry.maximum_interval_s),
        maximum_attempts=retry.maximum_attempts,
        non_retryable_error_types=[str(kind) for kind in NON_RETRYABLE],
    )


def describe_failure(ref: ModelRef, error: ActivityError) -> tuple[str | None, str]:
    """The failure's ``ErrorType`` (None when unknown) and a line naming ref and cause.

    A Temporal timeout (start-to-close, heartbeat) is a ``ModelTimeout`` like the
    adapter's own: the reference was too slow, so the route moves on.
    """
    cause = error.cause
    attempts = ref.retry.maximum_attempts
    gave_up = (
        f" (gave up after {attempts} attempts)"
        if error.retry_state is RetryState.MAXIMUM_ATTEMPTS_REACHED and attempts > 1
        else ""
    )
    if isinstance(cause, ApplicationError):
        return cause.type, f"{ref.ref}: {cause.type}: {cause.message}{gave_up}"
    if isinstance(cause, ActivityTimeoutError):
        which = cause.type.name.lower().replace("_", "-") if cause.type else "activity"
        text = f"the model call hit its {which} timeout{gave_up}"
        return ErrorType.MODEL_TIMEOUT, f"{ref.ref}: {ErrorType.MODEL_TIMEOUT}: {text}"
    return None, f"{ref.ref}: {cause or error}{gave_up}"


class _Failures:
    """The failures passed on the way to an answer; the latest ``MAX_RECORDED_FAILURES``."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.dropped = 0

    def add(self, text: str) -> None:
        self.kept.append(text)
        if len(self.kept) > MAX_RECORDED_FAILURES:
            self.kept.pop(0)
            self.dropped += 1

    def as_list(self) -> list[str]:
        earlier = [f"… {self.dropped} earlier failures not kept"] if self.dropped else []
        return earlier + self.kept


async def _call(task: TaskRun, ref: ModelRef, request: ModelCallInput) -> ModelCallResult:
    queues = task.pinned_agent.model_queues
    result: ModelCallResult = await workflow.execute_activity(
        MODEL_ACTIVITY,
        request.model_copy(update={"model": ref}),
        result_type=ModelCallResult,
        task_queue=queues.get(ref.provider),
        start_to_close_timeout=timedelta(seconds=ref.retry.start_to_close_s),
        heartbeat_timeout=timedelta(seconds=ref.retry.heartbeat_timeout_s),
        retry_policy=retry_policy(ref),
        summary=f"model {ref.ref} · step {request.step}",
    )
    return result


def cooling_last(
    route: list[ModelRef], cooldowns: dict[str, datetime], now: datetime
) -> list[ModelRef]:
    """The route with references still cooling down after a failure moved to the end.

    Order is kept within each group, so the primary is first again once it has rested,
    and a cooling reference is still tried when nothing else answers.
    """
    resting = [ref for ref in route if cooldowns.get(ref.ref, now) > now]
    return [ref for ref in route if ref not in resting] + resting


async def call_model(
    task: TaskRun,
    route: list[ModelRef],
    request: ModelCallInput,
    recovery: RecoverySettings,
) -> tuple[ModelCallResult, list[str]]:
    """The first answer along the route, and the failures passed on the way."""
    if not route:
        raise TaskFailedError(f"the agent has no model route for step {request.step}")
    failures = _Failures()
    recovery_started: datetime | None = None
    delay_s = recovery.initial_delay_s
    attempt = 0
    while True:
        round_failures: list[str] = []
        for ref in cooling_last(route, task.state.model_cooldowns, workflow.now()):
            try:
                result = await _call(task, ref, request)
            except ActivityError as error:
                if is_cancelled_exception(error):
                    # The task is being cancelled: do not fail over to the next model.
                    raise asyncio.CancelledError() from error
                kind, text = describe_failure(ref, error)
                failures.add(text)
                round_failures.append(text)
                if kind in REQUEST_ERRORS:
                    raise TaskFailedError(f"the model request was refused: {text}") from error
                if recovery.failover_cooldown_s > 0:
                    task.cool_down(ref, recovery.failover_cooldown_s)
                continue
            task.rested(ref)
            if recovery_started is not None:
                task.end_recovery()
            return result, failures.as_list()
        cause = "; ".join(round_failures)
        now = workflow.now()
        recovery_started = recovery_started or now
        gives_up_at = recovery_started + timedelta(seconds=recovery.window_s)
        delay = timedelta(seconds=min(delay_s, recovery.max_delay_s))
        if now >= gives_up_at:
            task.end_recovery(running=False)
            raise TaskFailedError(
                f"every model in the route kept failing for {recovery.window_s:g}s "
                f"(the recovery window); last failures: {cause}"
            )
        attempt += 1
        delay_s = min(delay_s * recovery.backoff_coefficient, recovery.max_delay_s)
        next_try_at = now + min(delay, gives_up_at - now)
        await _wait_to_retry(task, recovery_started, attempt, cause, next_try_at, gives_up_at)


async def _wait_to_retry(
    task: TaskRun,
    since: datetime,
    attempt: int,
    cause: str,
    next_try_at: datetime,
    gives_up_at: datetime,
) -> None:
    """RECOVERING until ``next_try_at`` or an operator's ``resume``, whichever is first."""
    recovery = RecoveryInfo(
        since=since,
        attempt=attempt,
        cause=cause,
        next_try_at=next_try_at,
        gives_up_at=gives_up_at,
    )
    wait = next_try_at - workflow.now()
    task.recovering(
        recovery,
        f"every model in the route failed; recovery try {attempt} at "
        f"{next_try_at.isoformat(timespec='seconds')} (in {wait.total_seconds():.0f}s)",
    )
    task.controls.take_wake()  # a resume sent before this wait began is not an answer to it
    with contextlib.suppress(asyncio.TimeoutError):
        await workflow.wait_condition(
            task.controls.wake_requested,
            timeout=wait,
            timeout_summary=f"recovery try {attempt}: the model route again",
        )
    woken = task.controls.take_wake()
    task.recovering(
        recovery,
        f"trying the model route again (recovery try {attempt}"
        f"{', resumed by an operator' if woken else ''})",
    )
