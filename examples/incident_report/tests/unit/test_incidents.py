"""The incident report's pure core: windows, statistics, log summaries and the draft."""

from __future__ import annotations

import ast
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import incidents.data as incidents
import pytest
from incidents.data import (
    LogEvent,
    ReportWindow,
    Ticket,
    compute_stats,
    normalise_message,
    priority_rank,
    render_report_markdown,
    summarise_logs,
)

MONDAY = datetime(2026, 11, 16, tzinfo=UTC)


def ticket(
    key: str,
    priority: str = "Medium",
    *,
    hours: float | None = None,
    day: int = 0,
    components: tuple[str, ...] = (),
    labels: tuple[str, ...] = (),
) -> Ticket:
    created = MONDAY + timedelta(days=day, hours=9)
    return Ticket(
        key=key,
        summary=f"summary of {key}",
        priority=priority,
        status="Done" if hours is not None else "Open",
        created=created,
        resolved=None if hours is None else created + timedelta(hours=hours),
        components=list(components),
        labels=list(labels),
    )


def event(level: str, message: str, service: str = "payments-api", minute: int = 0) -> LogEvent:
    return LogEvent(
        timestamp=MONDAY + timedelta(minutes=minute), level=level, service=service, message=message
    )


def test_iso_week_becomes_monday_to_monday_in_utc() -> None:
    window = ReportWindow.from_iso_week("2026-W47")
    assert (window.start, window.end) == (MONDAY, MONDAY + timedelta(days=7))
    assert window.label == "2026-W47"
    assert window.contains(MONDAY)
    assert not window.contains(window.end)
    assert window.jira_jql("INC").startswith(
        'project = INC AND created >= "2026-11-16" AND created < "2026-11-23"'
    )


@pytest.mark.parametrize("bad", ["2026-47", "2026-W7", "2026-W54", "W47-2026", ""])
def test_malformed_or_impossible_iso_week_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="week"):
        ReportWindow.from_iso_week(bad)


def test_a_window_that_is_not_a_week_is_labelled_by_dates() -> None:
    window = ReportWindow(start=MONDAY, end=MONDAY + timedelta(days=3))
    assert window.label == "2026-11-16 to 2026-11-19"
    with pytest.raises(ValueError, match="end after it starts"):
        ReportWindow(start=MONDAY, end=MONDAY)


def test_naive_times_are_taken_as_utc() -> None:
    created = datetime(2026, 11, 16)  # noqa: DTZ001 - naive on purpose
    naive = Ticket(key="A-1", summary="", priority="P1", status="Open", created=created)
    assert naive.created == MONDAY


@pytest.mark.parametrize(
    ("name", "rank"),
    [
        ("Highest", 1),
        ("P1 - Critical", 1),
        ("Blocker", 1),
        ("High", 2),
        ("p3", 3),
        ("Lowest", 5),
        ("Whatever", 9),
    ],
)
def test_priority_rank_understands_jira_and_p_levels(name: str, rank: int) -> None:
    assert priority_rank(name) == rank


def test_stats_count_priorities_components_and_mttr_over_resolved_tickets() -> None:
    tickets = [
        ticket("INC-1", "Highest", hours=2, components=("payments",)),
        ticket("INC-2", "Low", hours=10, components=("search",)),
        ticket("INC-3", "High", components=("payments", "checkout")),
        ticket("INC-4", "Highest", hours=3),
    ]
    stats = compute_stats(tickets)
    assert (stats.total, stats.resolved, stats.open) == (4, 3, 1)
    assert list(stats.by_priority.items()) == [("Highest", 2), ("High", 1), ("Low", 1)]
    assert list(stats.by_component.items()) == [
        ("payments", 2),
        ("(none)", 1),
        ("checkout", 1),
        ("search", 1),
    ]
    assert stats.mttr_hours == 5.0  # (2 + 10 + 3) / 3; the open ticket does not count
    assert stats.mttr_hours_by_priority == {"Highest": 2.5, "Low": 10.0}
    assert stats.by_status == {"Done": 3, "Open": 1}


def test_recurring_failures_are_components_or_labels_seen_at_least_twice() -> None:
    tickets = [
        ticket("INC-1", day=0, components=("payments",), labels=("gateway-timeout",)),
        ticket("INC-2", day=1, components=("payments",), labels=("gateway-timeout",)),
        ticket("INC-3", day=2, components=("payments",)),
        ticket("INC-4", day=3, components=("search",), labels=("one-off",)),
    ]
    recurring = compute_stats(tickets).recurring_failures
    assert [(r.kind, r.name, r.count, r.keys) for r in recurring] == [
        ("component", "payments", 3, ["INC-1", "INC-2", "INC-3"]),
        ("label", "gateway-timeout", 2, ["INC-1", "INC-2"]),
    ]


def test_notable_incidents_are_the_most_urgent_earliest_first_at_most_five() -> None:
    tickets = [ticket(f"INC-{n}", "Medium", day=n) for n in range(6)]
    tickets += [ticket("INC-10", "Highest", day=5, hours=1.25), ticket("INC-11", "High", day=0)]
    notable = compute_stats(tickets).notable
    assert [n.key for n in notable] == ["INC-10", "INC-11", "INC-0", "INC-1", "INC-2"]
    assert notable[0].hours_to_resolve == 1.2
    assert notable[1].hours_to_resolve is None


def test_no_tickets_gives_zeros_and_no_mttr() -> None:
    stats = compute_stats([])
    assert (stats.total, stats.mttr_hours, stats.notable) == (0, None, [])


def test_normalising_folds_ids_numbers_hex_and_uuids_so_repeats_group() -> None:
    first = normalise_message(
        "payment gateway timeout after 30000ms (order ord_wpgowjed, attempt 2) "
        "user 3f2a9c1e-1b2c-4d3e-a4f5-0123456789ab kid 0a1b2c3d from 10.1.2.3"
    )
    second = normalise_message(
        "payment gateway timeout after 1200ms (order ord_8f2k1c9z, attempt 3) "
        "user 00000000-1111-4222-a333-444444444444 kid ffee0011 from 192.168.0.1"
    )
    assert first == second
    assert first == (
        "payment gateway timeout after {n}ms (order {id}, attempt {n}) "
        "user {uuid} kid {hex} from {ip}"
    )
    assert normalise_message("es_rejected_execution_exception") == "es_rejected_execution_exception"


def test_log_summary_counts_levels_and_services_and_ranks_recurring_errors() -> None:
    events = [
        event("ERROR", "timeout after 100ms (order ord_aaaaaaaa)", minute=3),
        event("error", "timeout after 250ms (order ord_bbbbbbbb)", minute=1),
        event("ERROR", "timeout after 300ms (order ord_cccccccc)", "checkout-web", minute=2),
        event("WARNING", "slow", minute=4),
        event("ERROR", "disk full on /var", "search-api", minute=5),
        event("INFO", "ok", minute=6),
    ]
    summary = summarise_logs(events)
    assert summary.total == 6
    assert summary.errors == 4
    assert summary.by_level == {"ERROR": 4, "INFO": 1, "WARN": 1}
    assert summary.by_service == {"payments-api": 4, "checkout-web": 1, "search-api": 1}
    top = summary.top_errors[0]
    assert (top.pattern, top.count) == ("timeout after {n}ms (order {id})", 3)
    assert top.services == ["checkout-web", "payments-api"]
    assert top.example == "timeout after 250ms (order ord_bbbbbbbb)"  # the earliest one
    assert top.first_seen == MONDAY + timedelta(minutes=1)
    assert summary.top_errors[1].count == 1


def _report_inputs() -> tuple[list[Ticket], list[LogEvent]]:
    tickets = [
        ticket("INC-1", "Highest", hours=2, components=("payments",), labels=("gateway-timeout",)),
        ticket("INC-2", "High", day=1, components=("payments",), labels=("gateway-timeout",)),
        ticket("INC-3", "Low", day=2, hours=30, components=("search",)),
    ]
    tickets[1] = tickets[1].model_copy(update={"summary": "Refunds & <retries> broken"})
    events = [event("ERROR", f"gateway timeout after {n}ms", minute=n) for n in range(5)]
    return tickets, [*events, event("INFO", "fine")]


def test_report_draft_has_every_section_and_escapes_slack_control_characters() -> None:
    tickets, events = _report_inputs()
    text = render_report_markdown(
        compute_stats(tickets), summarise_logs(events), ReportWindow.from_iso_week("2026-W47")
    )
    assert text.startswith(
        "*Weekly incident report: 2026-W47*\n_Mon 16 Nov 2026 to Sun 22 Nov 2026"
    )
    for section in ["*Headline*", "*By priority*", "*By component*", "*Recurring failures*", "*Notable incidents*", "*Top log errors*"]:  # fmt: skip
        assert section in text
    assert "*3* incidents opened: *2* resolved, *1* still open" in text
    assert "Mean time to resolve: *16.0 h*" in text
    assert "• label `gateway-timeout`: 2 incidents (INC-1, INC-2)" in text
    # Labels name the failure themes, so they come before the components they hit.
    assert text.index("label `gateway-timeout`") < text.index("component `payments`")
    assert "*INC-1* [Highest, resolved in 2.0 h]" in text
    assert "Refunds &amp; &lt;retries&gt; broken" in text
    assert "• `gateway timeout after {n}ms`: 5 events (payments-api)" in text


def test_report_draft_does_not_depend_on_input_order() -> None:
    tickets, events = _report_inputs()
    window = ReportWindow.from_iso_week("2026-W47")
    expected = render_report_markdown(compute_stats(tickets), summarise_logs(events), window)
    shuffler = random.Random(7)
    for _ in range(5):
        shuffler.shuffle(tickets)
        shuffler.shuffle(events)
        assert (
            render_report_markdown(compute_stats(tickets), summarise_logs(events), window)
            == expected
        )


def test_an_empty_week_still_renders_a_readable_draft() -> None:
    text = render_report_markdown(
        compute_stats([]), summarise_logs([]), ReportWindow.from_iso_week("2026-W01")
    )
    assert "Mean time to resolve: *n/a*" in text
    assert text.count("_None this week._") == 2
    assert "_No errors logged._" in text


def test_the_module_stays_neutral_standard_library_and_pydantic_only() -> None:
    """Workflow code imports it, so it must not pull in I/O libraries."""
    tree = ast.parse(Path(incidents.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "").split(".")[0]
        if isinstance(node, ast.ImportFrom)
        else alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported - {"__future__", "pydantic"} <= set(sys.stdlib_module_names)
