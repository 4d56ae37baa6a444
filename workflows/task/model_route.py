"""Calling a model through a route: retries per reference, failover, then RECOVERING.

Temporal retries each reference under its own retry policy (``ModelRef.retry``,
honouring Retry-After). When a reference gives up, times out, or fails for a
provider-side reason (auth, outage, unknown model, not configured), the next one gets
the same conversation reference, so no completed work is lost or repeated. A request the
provider refused as such (bad request, context too long) ends the task: another model
would refuse it too.

The recovery window (``RecoverySettings.window_s``) opens when the turn's first failing
call began: the first failure can be no earlier. Every call is held inside it
(``model_budget``): a call made before any failure plans no retry after the window would
close; after the first failure each reference's attempts and timeouts are cut to the
time left, the window is checked before every reference, and no call starts once it has
closed. The task then fails with the last failures as its cause.

When the whole route is down the task waits in RECOVERING on a durable timer whose delay
grows; a ``resume`` signal ends the wait early. After a wait each reference is first
tried once, with one attempt and a short timeout, so a model that recovered answers
before one still down has spent its retries; then the references with more to give get
their full budget.

Failures only an operator can fix (auth, unknown model, provider not configured) are
named in the status line with the setting to fix; an agent whose
``recovery.on_config_error`` is ``"fail"`` fails at once instead of waiting.

Model calls for a provider listed in ``PinnedAgent.model_queues`` go to that queue
(rate limited by its worker); the mapping was pinned at task start, so it is history.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception

from taskcraft.agents import OnConfigError, RecoverySettings
from taskcraft.calls import MODEL_ACTIVITY, ModelCallInput, ModelCallResult
from taskcraft.errors import TaskFailedError
from taskcraft.model_ref import ModelRef
from taskcraft.task import RecoveryInfo
from workflows.task.model_budget import (
    CallBudget,
    Failure,
    describe_failure,
    next_try_at,
    probe_pass_s,
    retry_policy,
    worth_a_full_try,
)

if TYPE_CHECKING:
    from workflows.task.run import TaskRun

# Histories recorded before the window opened at the first failure (and before probes
# after a wait) carry no marker for this patch and replay the old way; see ``_RouteCall``.
RECOVERY_PATCH = "model-route-window-at-first-failure"

# A long RECOVERING stretch fails over many times; the step record keeps the latest.
MAX_RECORDED_FAILURES = 20


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


async def _call(
    task: TaskRun, ref: ModelRef, request: ModelCallInput, budget: CallBudget
) -> ModelCallResult:
    queues = task.pinned_agent.model_queues
    result: ModelCallResult = await workflow.execute_activity(
        MODEL_ACTIVITY,
        request.model_copy(update={"model": ref}),
        result_type=ModelCallResult,
        task_queue=queues.get(ref.provider),
        start_to_close_timeout=budget.start_to_close,
        schedule_to_close_timeout=budget.schedule_to_close,
        heartbeat_timeout=min(
            timedelta(seconds=ref.retry.heartbeat_timeout_s), budget.start_to_close
        ),
        retry_policy=retry_policy(ref, budget.maximum_attempts),
        summary=f"model {ref.ref} · step {request.step}" + (" · one try" if budget.probe else ""),
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
    return await _RouteCall(task, route, request, recovery).answer()


class _RouteCall:
    """One model turn's way to an answer: passes over the route, waits, the window.

    Tasks whose history predates ``RECOVERY_PATCH`` keep the old way, decided at the
    turn's first failure (``legacy``): the window opened after the first full pass, was
    checked only between passes, calls had their full budget, and every pass after a wait
    gave each reference its full retry budget in turn.
    """

    def __init__(
        self,
        task: TaskRun,
        route: list[ModelRef],
        request: ModelCallInput,
        recovery: RecoverySettings,
    ) -> None:
        self.task = task
        self.route = route
        self.request = request
        self.recovery = recovery
        self.failures = _Failures()
        self.latest: dict[str, Failure] = {}  # each reference's latest failure
        self.opened_at: datetime | None = None  # the recovery window
        self.legacy = False

    @property
    def closes_at(self) -> datetime | None:
        if self.opened_at is None:
            return None
        return self.opened_at + timedelta(seconds=self.recovery.window_s)

    async def answer(self) -> tuple[ModelCallResult, list[str]]:
        task, recovery = self.task, self.recovery
        delay_s = recovery.initial_delay_s
        attempt = 0
        while True:
            order = cooling_last(self.route, task.state.model_cooldowns, workflow.now())
            outcome = await self._pass(order, after_a_wait=attempt > 0 and not self.legacy)
            if isinstance(outcome, ModelCallResult):
                if attempt:
                    task.end_recovery()
                return outcome, self.failures.as_list()
            now = workflow.now()
            if self.opened_at is None:  # legacy: the window opened after the first pass
                self.opened_at = now
            closes_at = self.opened_at + timedelta(seconds=recovery.window_s)
            if now >= closes_at:
                raise self._window_closed()
            if not self.legacy:
                self._fail_fast_on_config(outcome)
            attempt += 1
            delay = timedelta(seconds=min(delay_s, recovery.max_delay_s))
            delay_s = min(delay_s * recovery.backoff_coefficient, recovery.max_delay_s)
            if self.legacy:
                next_try = now + min(delay, closes_at - now)
            else:
                lead = timedelta(seconds=probe_pass_s(self.route))
                next_try = next_try_at(now, delay, closes_at, lead)
            info = RecoveryInfo(
                since=self.opened_at,
                attempt=attempt,
                cause="; ".join(failure.text for failure in outcome.values()),
                next_try_at=next_try,
                gives_up_at=closes_at,
            )
            await _wait_to_retry(task, info, _operator_fixes(outcome))

    async def _pass(
        self, order: list[ModelRef], *, after_a_wait: bool
    ) -> ModelCallResult | dict[str, Failure]:
        """An answer, or each reference's failure in this pass.

        After a wait each reference is tried once first; only then do those with more to
        give (retries, a longer timeout) get their full budget.
        """
        failed: dict[str, Failure] = {}
        for ref in order:
            outcome = await self._try(ref, probe=after_a_wait)
            if isinstance(outcome, ModelCallResult):
                return outcome
            failed[ref.ref] = outcome
        if after_a_wait:
            for ref in order:
                if worth_a_full_try(ref, failed[ref.ref]):
                    outcome = await self._try(ref, probe=False)
                    if isinstance(outcome, ModelCallResult):
                        return outcome
                    failed[ref.ref] = outcome
        return failed

    async def _try(self, ref: ModelRef, *, probe: bool) -> ModelCallResult | Failure:
        budget = CallBudget.probe_of(ref) if probe else CallBudget.full(ref)
        closes_at = self.closes_at
        if closes_at is None:
            budget = budget.before_a_failure(ref, timedelta(seconds=self.recovery.window_s))
        elif not self.legacy:
            left = closes_at - workflow.now()
            if left <= timedelta(0):
                raise self._window_closed()
            budget = budget.within(ref, left)
        started = workflow.now()
        try:
            result = await _call(self.task, ref, self.request, budget)
        except ActivityError as error:
            if is_cancelled_exception(error):
                # The task is being cancelled: do not fail over to the next model.
                raise asyncio.CancelledError() from error
            failure = describe_failure(ref, error, budget.maximum_attempts)
            self.failures.add(failure.text)
            if failure.refused_request:
                raise TaskFailedError(f"the model request was refused: {failure.text}") from error
            if self.opened_at is None:
                self._first_failure(started)
            self.latest[ref.ref] = failure
            if self.recovery.failover_cooldown_s > 0:
                self.task.cool_down(ref, self.recovery.failover_cooldown_s)
            return failure
        self.task.rested(ref)
        return result

    def _first_failure(self, started: datetime) -> None:
        """The window opens when the failing call began; a history from before the patch
        has no marker here and takes the old way for the rest of this run."""
        self.legacy = not workflow.patched(RECOVERY_PATCH)
        if not self.legacy:
            self.opened_at = started

    def _window_closed(self) -> TaskFailedError:
        self.task.end_recovery(running=False)
        cause = "; ".join(failure.text for failure in self.latest.values())
        return TaskFailedError(
            f"every model in the route kept failing for {self.recovery.window_s:g}s "
            f"(the recovery window); last failures: {cause}"
        )

    def _fail_fast_on_config(self, failed: dict[str, Failure]) -> None:
        fixes = _operator_fixes(failed)
        if not fixes or self.recovery.on_config_error is not OnConfigError.FAIL:
            return
        self.task.end_recovery(running=False)
        cause = "; ".join(failure.text for failure in failed.values())
        raise TaskFailedError(
            f"the model route cannot answer until the workers' settings are fixed: {fixes} "
            f'(the agent\'s recovery.on_config_error is "fail", so the task did not wait); '
            f"last failures: {cause}"
        )


def _operator_fixes(failed: dict[str, Failure]) -> str:
    """What to fix on the workers, for the failures only an operator can fix."""
    return "; ".join(failure.operator_fix for failure in failed.values() if failure.operator_fix)


async def _wait_to_retry(task: TaskRun, recovery: RecoveryInfo, fixes: str) -> None:
    """RECOVERING until ``next_try_at`` or an operator's ``resume``, whichever is first."""
    attempt, next_try = recovery.attempt, recovery.next_try_at
    wait = next_try - workflow.now()
    at = next_try.isoformat(timespec="seconds")
    if next_try >= recovery.gives_up_at:
        detail = (
            f"every model in the route failed and no further try fits in the recovery window: "
            f"the task fails at {at} (in {wait.total_seconds():.0f}s) unless resumed"
        )
    else:
        detail = (
            f"every model in the route failed; recovery try {attempt} at {at} "
            f"(in {wait.total_seconds():.0f}s)"
        )
    if fixes:
        detail = f"{fixes}, then `taskcraft resume {task.state.task_id}`; otherwise {detail}"
    task.recovering(recovery, detail)
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
