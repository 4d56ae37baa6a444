"""What one model call may spend, and what its failure means for the route.

Pure functions of the route's settings and the clock the caller passes, so the rules of
``model_route`` are tested without a server (``tests/unit/test_failover_order.py``):
a call's budget (attempts, timeouts) and its cut to the time left in the recovery
window; whether a reference that failed its one-try probe deserves its full budget; when
to try the route again; and how a failure reads in the task's record.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pydantic import ValidationError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState, TimeoutType
from temporalio.exceptions import TimeoutError as ActivityTimeoutError

from taskcraft.calls import ModelFailureDetails
from taskcraft.errors import ErrorType
from taskcraft.model_ref import ModelRef, ModelRetry

# A probe (one try of each reference after a RECOVERING wait) gets at most this long: a
# provider still down is passed over quickly, one that recovered answers.
PROBE_START_TO_CLOSE_S = 60.0

# Failures a different provider would not fix: the request itself is wrong.
REQUEST_ERRORS = frozenset({ErrorType.MODEL_BAD_REQUEST, ErrorType.MODEL_CONTEXT_LENGTH})
# Failures only an operator can fix, on the workers: waiting does not help by itself.
OPERATOR_ERRORS = frozenset(
    {ErrorType.MODEL_AUTH, ErrorType.MODEL_NOT_FOUND, ErrorType.MODEL_NOT_CONFIGURED}
)
NON_RETRYABLE = [
    ErrorType.MODEL_AUTH,
    ErrorType.MODEL_NOT_FOUND,
    ErrorType.MODEL_NOT_CONFIGURED,
    ErrorType.MODEL_BAD_REQUEST,
    ErrorType.MODEL_CONTEXT_LENGTH,
]


def retry_policy(ref: ModelRef, maximum_attempts: int | None = None) -> RetryPolicy:
    retry = ref.retry
    return RetryPolicy(
        initial_interval=timedelta(seconds=retry.initial_interval_s),
        backoff_coefficient=retry.backoff_coefficient,
        maximum_interval=timedelta(seconds=retry.maximum_interval_s),
        maximum_attempts=maximum_attempts or retry.maximum_attempts,
        non_retryable_error_types=[str(kind) for kind in NON_RETRYABLE],
    )


def attempts_within(retry: ModelRetry, left: timedelta) -> int:
    """How many of ``retry``'s attempts can start within ``left``, each after its backoff
    (at least one): a budget that plans no attempt after the window closes."""
    attempts, start, interval = 1, 0.0, retry.initial_interval_s
    while attempts < retry.maximum_attempts:
        start += min(interval, retry.maximum_interval_s)
        if start >= left.total_seconds():
            break
        attempts += 1
        interval *= retry.backoff_coefficient
    return attempts


@dataclass(frozen=True)
class CallBudget:
    """What one call of a reference may spend: its attempts and timeouts."""

    maximum_attempts: int
    start_to_close: timedelta
    # Set inside the recovery window: Temporal starts no retry after it.
    schedule_to_close: timedelta | None = None
    probe: bool = False

    @classmethod
    def full(cls, ref: ModelRef) -> CallBudget:
        return cls(ref.retry.maximum_attempts, timedelta(seconds=ref.retry.start_to_close_s))

    @classmethod
    def probe_of(cls, ref: ModelRef) -> CallBudget:
        """One attempt with a short timeout."""
        seconds = min(ref.retry.start_to_close_s, PROBE_START_TO_CLOSE_S)
        return cls(1, timedelta(seconds=seconds), probe=True)

    def before_a_failure(self, ref: ModelRef, window: timedelta) -> CallBudget:
        """This budget for a call made before any failure of the turn: the window opens
        when such a call began if it fails, so retries are planned inside it. Its first
        attempt keeps its whole timeout (nothing has failed yet); with a window at least
        that long, Temporal starts no retry after the window closes."""
        return replace(
            self,
            maximum_attempts=min(self.maximum_attempts, attempts_within(ref.retry, window)),
            schedule_to_close=max(window, self.start_to_close),
        )

    def within(self, ref: ModelRef, left: timedelta) -> CallBudget:
        """This budget cut to ``left``: fewer attempts, shorter timeouts, none after it."""
        return replace(
            self,
            maximum_attempts=min(self.maximum_attempts, attempts_within(ref.retry, left)),
            start_to_close=min(self.start_to_close, left),
            schedule_to_close=left,
        )


def probe_pass_s(route: list[ModelRef]) -> float:
    """The longest one probe of every reference can take."""
    return sum(CallBudget.probe_of(ref).start_to_close.total_seconds() for ref in route)


def next_try_at(now: datetime, delay: timedelta, closes_at: datetime, lead: timedelta) -> datetime:
    """When to try the route again, ``delay`` after ``now``, inside the window.

    A try is planned to leave ``lead`` (a pass of probes) before the window closes: when
    the regular try would not, a last one comes ``lead`` before the close, if that is still
    ahead; otherwise the regular try if it is before the close, else the close itself (the
    task waits out its window, and fails then unless an operator resumes it).
    """
    regular = now + delay
    last = closes_at - lead
    if regular <= last:
        return regular
    if now < last:
        return last
    return min(regular, closes_at)


@dataclass(frozen=True)
class Failure:
    """A reference's failed call, as the route judges it."""

    ref: ModelRef
    kind: str | None  # the ``ErrorType``, None when unknown
    text: str  # names the reference and the cause, for the step record and the status
    retryable: bool  # another attempt might succeed
    timed_out: bool  # a longer timeout might succeed
    details: ModelFailureDetails | None = None

    @property
    def refused_request(self) -> bool:
        return self.kind in REQUEST_ERRORS

    @property
    def operator_fix(self) -> str:
        """What to fix, for failures only an operator can fix ("" for the others):
        ``openai:gpt-4o answered 401 Unauthorized; fix OPENAI_API_KEY on the workers``."""
        if self.kind not in OPERATOR_ERRORS:
            return ""
        if self.details is None:  # from a worker older than the details
            return f"{self.ref.ref} failed ({self.kind}); fix the workers' {self.ref.provider} settings"
        fix = f"; {self.details.fix}" if self.details.fix else ""
        return f"{self.ref.ref} {self.details.answer}{fix}"


def worth_a_full_try(ref: ModelRef, probe: Failure) -> bool:
    """Whether a reference whose one-try probe failed has more to give: retries, or a
    longer timeout than the probe's when that is what it ran out of."""
    if not probe.retryable:
        return False
    longer = ref.retry.start_to_close_s > CallBudget.probe_of(ref).start_to_close.total_seconds()
    return ref.retry.maximum_attempts > 1 or (probe.timed_out and longer)


def describe_failure(ref: ModelRef, error: ActivityError, attempts: int) -> Failure:
    """The failure of a call of ``ref`` that had ``attempts`` attempts.

    A Temporal timeout (start-to-close, heartbeat) is a ``ModelTimeout`` like the
    adapter's own: the reference was too slow, so the route moves on. A call the recovery
    window cut short (schedule-to-close) is described by its last attempt's failure.
    """
    cause = error.cause
    gave_up = ""
    if error.retry_state is RetryState.MAXIMUM_ATTEMPTS_REACHED and attempts > 1:
        gave_up = f" (gave up after {attempts} attempts)"
    elif error.retry_state is RetryState.TIMEOUT:
        gave_up = " (no time left in the recovery window for another attempt)"
    if (
        isinstance(cause, ActivityTimeoutError)
        and cause.type is TimeoutType.SCHEDULE_TO_CLOSE
        and isinstance(cause.cause, ApplicationError)
    ):
        cause, gave_up = cause.cause, " (stopped when the recovery window closed)"
    if isinstance(cause, ApplicationError):
        kind = cause.type
        return Failure(
            ref,
            kind,
            f"{ref.ref}: {kind}: {cause.message}{gave_up}",
            retryable=not cause.non_retryable and kind not in NON_RETRYABLE,
            timed_out=kind == ErrorType.MODEL_TIMEOUT,
            details=_details(cause) if kind in OPERATOR_ERRORS else None,
        )
    if isinstance(cause, ActivityTimeoutError):
        which = cause.type.name.lower().replace("_", "-") if cause.type else "activity"
        text = f"the model call hit its {which} timeout{gave_up}"
        return Failure(
            ref,
            ErrorType.MODEL_TIMEOUT,
            f"{ref.ref}: {ErrorType.MODEL_TIMEOUT}: {text}",
            retryable=True,
            timed_out=True,
        )
    return Failure(ref, None, f"{ref.ref}: {cause or error}{gave_up}", True, False)


def _details(error: ApplicationError) -> ModelFailureDetails | None:
    first = error.details[0] if error.details else None
    try:
        return ModelFailureDetails.model_validate(first)
    except ValidationError:
        return None
