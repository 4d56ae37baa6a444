"""Times a person reads: a weekday, date, time and zone, and how far from now.

Then where people read them: the CLI (their own zone) and the inbox's pages (UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from cli.render import local_zone, render_history, render_status
from inbox.auth import Principal
from inbox.pages import build_environment
from inbox.views import gate_notice, task_context
from taskcraft.approvals import ApprovalRequest, DecisionKind, DecisionRecord, GateKind
from taskcraft.status import TaskStatus
from taskcraft.task import TaskState
from taskcraft.timefmt import human_time, human_time_relative, relative, span

NOW = datetime(2026, 12, 5, 13, 5, 30, 123456, tzinfo=UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:  # pragma: no cover - a system without the tz database
        pytest.skip(f"the system has no time zone database entry for {name}")


def test_a_gate_deadline_reads_as_weekday_date_time_and_zone() -> None:
    deadline = datetime(2026, 12, 7, 13, 5, 42, 987654, tzinfo=UTC)
    assert human_time(deadline, now=NOW, tz=_zone("Europe/Berlin")) == "Mon 7 Dec 14:05 CET"
    assert human_time(deadline, now=NOW, tz=UTC) == "Mon 7 Dec 13:05 UTC"


def test_summer_time_is_that_date_s_own_offset_not_today_s() -> None:
    july = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert human_time(july, now=NOW, tz=_zone("Europe/Berlin")) == "Wed 1 Jul 14:00 CEST"


def test_another_year_is_spelled_out() -> None:
    assert human_time(datetime(2027, 1, 4, 9, 0, tzinfo=UTC), now=NOW, tz=UTC) == (
        "Mon 4 Jan 2027 09:00 UTC"
    )
    # The year is the reader's: 31 Dec 23:30 UTC is already next year in Tokyo.
    eve = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert human_time(eve, now=NOW, tz=_zone("Asia/Tokyo")) == "Fri 1 Jan 2027 08:30 JST"


def test_a_zone_known_only_by_its_offset_names_the_offset() -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    assert human_time(NOW, now=NOW, tz=india) == "Sat 5 Dec 18:35 UTC+05:30"
    # tzdata names some zones by their offset alone ("-03"): shown the same way.
    assert human_time(NOW, now=NOW, tz=_zone("America/Sao_Paulo")).endswith("10:05 UTC-03:00")


def test_naive_times_are_taken_as_utc() -> None:
    naive = datetime(2026, 12, 7, 13, 5)  # noqa: DTZ001 - the case under test
    assert human_time(naive, now=NOW, tz=UTC) == "Mon 7 Dec 13:05 UTC"
    assert relative(naive, now=NOW.replace(tzinfo=None)) == "in 1 day 23 hours"


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(days=2), "in 2 days"),
        (timedelta(minutes=-3, seconds=-20), "3 minutes ago"),
        (timedelta(seconds=1), "in 1 second"),
        (timedelta(seconds=-59.9), "59 seconds ago"),
        (timedelta(minutes=1), "in 1 minute"),
        (timedelta(hours=1, minutes=20), "in 1 hour 20 minutes"),
        (timedelta(hours=2), "in 2 hours"),
        (timedelta(hours=5, minutes=59), "in 5 hours"),
        (timedelta(days=1, hours=23, minutes=59), "in 1 day 23 hours"),
        (timedelta(days=-9, hours=-4), "9 days ago"),
        (timedelta(milliseconds=400), "now"),
        (timedelta(0), "now"),
    ],
)
def test_relative_rounds_down_and_keeps_the_next_unit_when_it_matters(
    delta: timedelta, text: str
) -> None:
    assert relative(NOW + delta, now=NOW) == text


def test_span_has_no_sign() -> None:
    assert span(-90) == span(90) == "1 minute"


def test_both_together_and_a_missing_time() -> None:
    at = NOW + timedelta(days=2)
    assert human_time_relative(at, now=NOW, tz=UTC) == "Mon 7 Dec 13:05 UTC (in 2 days)"
    assert human_time_relative(None, now=NOW, tz=UTC) == "-"


# ----- where people read them: the CLI ------------------------------------------------


def _waiting_task() -> TaskState:
    asked = datetime(2026, 12, 5, 12, 50, 1, 654321, tzinfo=UTC)
    return TaskState(
        task_id="workspace-analyst-1a2b",
        agent="workspace-analyst",
        goal="Summarise the workspace",
        status=TaskStatus.AWAITING_APPROVAL,
        updated_at=asked,
        pending=ApprovalRequest(
            gate_id="g1",
            kind=GateKind.TOOL_CALL,
            title="write_file summary.md",
            reason="writes need a person",
            step=3,
            asked_at=asked,
            timeout_at=asked + timedelta(days=2),
            tool="write_file",
            arguments={"path": "summary.md"},
        ),
        decisions=[
            DecisionRecord(
                gate_id="g0",
                kind=DecisionKind.APPROVE,
                approver="alice",
                via="update",
                at=asked - timedelta(hours=3),
                applied=True,
            )
        ],
    )


def test_status_shows_the_gate_deadline_in_the_reader_s_zone() -> None:
    text = render_status(_waiting_task(), "http://ui", now=NOW, tz=_zone("Europe/Berlin"))
    assert "Updated   Sat 5 Dec 13:50 CET (15 minutes ago)" in text
    assert (
        "Asked     Sat 5 Dec 13:50 CET (15 minutes ago); "
        "times out Mon 7 Dec 13:50 CET (in 1 day 23 hours), then reject"
    ) in text
    assert "2026-12-07T" not in text
    assert ".654321" not in text


def test_history_dates_each_decision_in_the_reader_s_zone() -> None:
    text = render_history([_waiting_task()], now=NOW, tz=_zone("America/New_York"))
    assert "alice approved gate g0 at Sat 5 Dec 04:50 EST (via update)" in text


def test_the_cli_reads_the_zone_from_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert human_time(NOW, now=NOW, tz=local_zone()) == "Sat 5 Dec 22:05 JST"
    monkeypatch.setenv("TZ", ":Europe/Berlin")
    assert local_zone().utcoffset(datetime(2026, 7, 1)) == timedelta(hours=2)  # noqa: DTZ001


# ----- where people read them: the inbox's task page ------------------------------------


def _task_page(state: TaskState) -> str:
    context = task_context(
        [state], gate_id=None, principal_name="alice", ui_url="http://ui", namespace="default",
        form=None, focus="", now=NOW,
    )  # fmt: skip
    context.update(
        principal=Principal(name="alice", via="link"),
        logout_csrf="",
        csrf="token",
        decide_url="/decide",
    )
    return build_environment().get_template("task.html").render(**context)


def test_the_task_page_says_when_the_gate_was_asked_and_times_out_in_utc() -> None:
    html = _task_page(_waiting_task())
    assert "<dd>Sat 5 Dec 12:50 UTC (15 minutes ago)</dd>" in html
    assert "<dd>Mon 7 Dec 12:50 UTC (in 1 day 23 hours), then reject" in html
    assert "Sat 5 Dec 09:50 UTC</td>" in html  # the decision's time
    assert "2026-12-0" not in html


def test_an_already_decided_gate_says_when_it_was_decided() -> None:
    state = _waiting_task()
    assert gate_notice(state, "g0", "alice", now=NOW) == (
        "Gate g0 was already decided: approved by alice at Sat 5 Dec 09:50 UTC "
        "(3 hours ago). Nothing more to do. "
        "The task now waits at gate g1: write_file summary.md."
    )
