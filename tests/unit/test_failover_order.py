"""The order a route is tried in, what each call may spend, and when it is tried again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    RetryState,
    TimeoutError,
    TimeoutType,
)

from taskcraft.model_ref import ModelRef, ModelRetry
from workflows.task.model_budget import (
    PROBE_START_TO_CLOSE_S,
    CallBudget,
    Failure,
    attempts_within,
    describe_failure,
    next_try_at,
    probe_pass_s,
    worth_a_full_try,
)
from workflows.task.model_route import cooling_last

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
A, B, C = (ModelRef(ref=f"openai:{name}") for name in "abc")


def names(route: list[ModelRef]) -> list[str]:
    return [ref.ref for ref in route]


def test_no_cooldowns_keep_the_route_as_written() -> None:
    assert names(cooling_last([A, B, C], {}, NOW)) == ["openai:a", "openai:b", "openai:c"]


def test_cooling_references_go_last_in_their_own_order() -> None:
    later = NOW + timedelta(minutes=5)
    cooling = {"openai:a": later, "openai:b": later}
    assert names(cooling_last([A, B, C], cooling, NOW)) == ["openai:c", "openai:a", "openai:b"]


def test_a_rested_reference_is_first_again() -> None:
    cooling = {"openai:a": NOW - timedelta(seconds=1), "openai:b": NOW + timedelta(seconds=1)}
    assert names(cooling_last([A, B, C], cooling, NOW)) == ["openai:a", "openai:c", "openai:b"]


def test_a_cooldown_ending_now_has_ended() -> None:
    assert names(cooling_last([A, B], {"openai:a": NOW}, NOW)) == ["openai:a", "openai:b"]


# ----- what a call may spend, and when the route is tried again ---------------------------

WINDOW_CLOSES = NOW + timedelta(minutes=10)
DEFAULT = ModelRetry()  # 4 attempts after 2, 4, 8 s of backoff; 600 s per attempt


def test_attempts_within_count_the_backoff_before_each_retry() -> None:
    assert attempts_within(DEFAULT, timedelta(hours=1)) == 4
    assert attempts_within(DEFAULT, timedelta(seconds=14.5)) == 4
    assert attempts_within(DEFAULT, timedelta(seconds=14)) == 3  # the 4th would start at 14 s
    assert attempts_within(DEFAULT, timedelta(seconds=2)) == 1
    assert attempts_within(DEFAULT, timedelta(0)) == 1  # the caller checks the window first
    capped = ModelRetry(maximum_attempts=10, initial_interval_s=10, maximum_interval_s=20)
    assert attempts_within(capped, timedelta(seconds=75)) == 5  # starts at 10, 30, 50, 70


def test_a_call_inside_the_window_is_cut_to_the_time_left() -> None:
    ref = ModelRef(ref="openai:a", retry=DEFAULT)
    budget = CallBudget.full(ref).within(ref, timedelta(seconds=5))
    assert budget == CallBudget(
        maximum_attempts=2,
        start_to_close=timedelta(seconds=5),
        schedule_to_close=timedelta(seconds=5),
    )


def test_a_call_before_any_failure_keeps_its_whole_first_attempt() -> None:
    """Nothing has failed: a long answer may take its whole timeout, but no retry is planned
    after the window that would open at its start."""
    ref = ModelRef(ref="openai:a", retry=DEFAULT)
    short = CallBudget.full(ref).before_a_failure(ref, timedelta(seconds=5))
    assert short == CallBudget(2, timedelta(seconds=600), schedule_to_close=timedelta(seconds=600))
    long = CallBudget.full(ref).before_a_failure(ref, timedelta(hours=6))
    assert long == CallBudget(4, timedelta(seconds=600), schedule_to_close=timedelta(hours=6))


def test_a_probe_is_one_short_attempt() -> None:
    slow = ModelRef(ref="openai:a", retry=DEFAULT)
    quick = ModelRef(ref="openai:b", retry=ModelRetry(start_to_close_s=20))
    assert CallBudget.probe_of(slow) == CallBudget(
        1, timedelta(seconds=PROBE_START_TO_CLOSE_S), probe=True
    )
    assert CallBudget.probe_of(quick).start_to_close == timedelta(seconds=20)
    assert probe_pass_s([slow, quick]) == PROBE_START_TO_CLOSE_S + 20


def failed(ref: ModelRef, *, retryable: bool = True, timed_out: bool = False) -> Failure:
    return Failure(ref, "ModelUnavailable", "", retryable=retryable, timed_out=timed_out)


def test_only_a_reference_with_more_to_give_gets_its_full_budget_after_a_probe() -> None:
    retries = ModelRef(ref="openai:a", retry=DEFAULT)
    one_try = ModelRef(ref="openai:b", retry=ModelRetry(maximum_attempts=1))
    assert worth_a_full_try(retries, failed(retries))
    assert not worth_a_full_try(retries, failed(retries, retryable=False))  # a 401 stays a 401
    assert not worth_a_full_try(one_try, failed(one_try))  # the probe was its whole budget
    assert worth_a_full_try(one_try, failed(one_try, timed_out=True))  # but for the timeout
    short = ModelRef(ref="openai:c", retry=ModelRetry(maximum_attempts=1, start_to_close_s=30))
    assert not worth_a_full_try(short, failed(short, timed_out=True))


@pytest.mark.parametrize(
    ("now_s", "delay_s", "expected_s"),
    [
        (0, 60, 60),  # plenty of room: the regular try
        (300, 300, 480),  # too late for a whole pass of tries: the last one comes earlier
        (480, 60, 540),  # past that point: a late try, cut to the time left
        (480, 600, 600),  # nothing fits: wait out the window (a resume still tries)
    ],
)
def test_the_next_try_keeps_room_for_a_pass_inside_the_window(
    now_s: float, delay_s: float, expected_s: float
) -> None:
    lead = timedelta(seconds=120)
    at = next_try_at(
        NOW + timedelta(seconds=now_s), timedelta(seconds=delay_s), WINDOW_CLOSES, lead
    )
    assert at == NOW + timedelta(seconds=expected_s)


# ----- how a failure reads ------------------------------------------------------------------


def activity_error(cause: BaseException, retry_state: RetryState | None = None) -> ActivityError:
    error = ActivityError(
        "activity failed",
        scheduled_event_id=5,
        started_event_id=6,
        identity="worker",
        activity_type="taskcraft.model.complete",
        activity_id="2",
        retry_state=retry_state,
    )
    error.__cause__ = cause
    return error


A_REF = ModelRef(ref="openai:gpt-4o")


def test_a_wrong_key_says_what_answered_and_what_to_fix() -> None:
    details = {"answer": "answered 401 Unauthorized", "fix": "fix OPENAI_API_KEY on the workers"}
    cause = ApplicationError("openai answered HTTP 401", details, type="ModelAuthFailed")
    failure = describe_failure(A_REF, activity_error(cause), 4)
    assert failure.text == "openai:gpt-4o: ModelAuthFailed: openai answered HTTP 401"
    assert not failure.retryable
    assert failure.operator_fix == (
        "openai:gpt-4o answered 401 Unauthorized; fix OPENAI_API_KEY on the workers"
    )


def test_an_operator_failure_from_an_older_worker_still_names_the_provider() -> None:
    cause = ApplicationError("not configured", type="ModelNotConfigured", non_retryable=True)
    failure = describe_failure(A_REF, activity_error(cause), 1)
    assert failure.operator_fix == (
        "openai:gpt-4o failed (ModelNotConfigured); fix the workers' openai settings"
    )


def test_an_outage_needs_no_operator() -> None:
    cause = ApplicationError("503", type="ModelUnavailable")
    failure = describe_failure(A_REF, activity_error(cause, RetryState.MAXIMUM_ATTEMPTS_REACHED), 4)
    assert failure.text == "openai:gpt-4o: ModelUnavailable: 503 (gave up after 4 attempts)"
    assert (failure.retryable, failure.timed_out, failure.operator_fix) == (True, False, "")


def test_a_call_the_window_cut_short_reads_as_its_last_failure() -> None:
    """Temporal ends it with a schedule-to-close timeout (or no retry left in time); the
    record says what the model last answered, and why no attempt followed."""
    last = ApplicationError("503", type="ModelUnavailable")
    timeout = TimeoutError(
        "timed out", type=TimeoutType.SCHEDULE_TO_CLOSE, last_heartbeat_details=[]
    )
    timeout.__cause__ = last
    cut = describe_failure(A_REF, activity_error(timeout, RetryState.TIMEOUT), 3)
    assert cut.text == (
        "openai:gpt-4o: ModelUnavailable: 503 (stopped when the recovery window closed)"
    )
    no_time = describe_failure(A_REF, activity_error(last, RetryState.TIMEOUT), 3)
    assert no_time.text == (
        "openai:gpt-4o: ModelUnavailable: 503 (no time left in the recovery window for "
        "another attempt)"
    )


def test_a_temporal_timeout_is_a_model_timeout() -> None:
    timeout = TimeoutError("timed out", type=TimeoutType.START_TO_CLOSE, last_heartbeat_details=[])
    failure = describe_failure(
        A_REF, activity_error(timeout, RetryState.MAXIMUM_ATTEMPTS_REACHED), 1
    )
    assert failure.text == (
        "openai:gpt-4o: ModelTimeout: the model call hit its start-to-close timeout"
    )
    assert (failure.retryable, failure.timed_out) == (True, True)
