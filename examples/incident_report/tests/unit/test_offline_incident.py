"""The offline model writes the incident report from the request's numbers, and revises it.

Also pins down that the analyst playbook (workspace-analyst's demo) is unchanged, and
that the request the workflow writes survives the round trip through the prompt.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incidents.connectors.jira import JiraSearchResult
from incidents.data import (
    LogEvent,
    ReportWindow,
    Ticket,
    compute_stats,
    render_report_markdown,
    summarise_logs,
)
from incidents.legacy import json_field
from incidents.offline import OFFLINE_REPORT_FOOTER, draft_report
from incidents.prompts import (
    ReportData,
    parse_report_request,
    parse_revision_request,
    report_request,
    revision_request,
)

from activities.models.offline import OFFLINE_PREFIX, OfflineModel
from taskcraft.messages import Message, Role

REPORTER = OfflineModel({"incident-report": draft_report}).for_agent("incident-report")

WINDOW = ReportWindow.from_iso_week("2026-W47")
MONDAY = datetime(2026, 11, 16, 9, tzinfo=UTC)


def _ticket(key: str, priority: str, hours: float | None, label: str) -> Ticket:
    return Ticket(
        key=key,
        summary=f"{label} seen by {priority.lower()} users",
        priority=priority,
        status="Done" if hours is not None else "Open",
        created=MONDAY,
        resolved=None if hours is None else MONDAY + timedelta(hours=hours),
        labels=[label],
        components=["payments"],
    )


DATA = ReportData(
    project="INC",
    window=WINDOW,
    stats=compute_stats(
        [
            _ticket("INC-1", "Highest", 2.0, "gateway-timeout"),
            _ticket("INC-2", "High", 4.0, "gateway-timeout"),
            _ticket("INC-3", "Low", None, "index-lag"),
        ]
    ),
    logs=summarise_logs(
        [LogEvent(timestamp=MONDAY, level="ERROR", service="payments-api", message="timeout 30s")]
    ),
)


async def _answer(*user_messages: str) -> str:
    messages = [Message.system("You write the weekly incident report.")]
    for text in user_messages:
        messages += [Message.user(text), Message(role=Role.ASSISTANT, content="(a draft)")]
    completion = await REPORTER.complete("analyst", messages[:-1], [])
    assert completion.message.tool_calls == []
    return completion.message.content


def test_the_request_round_trips_through_the_prompt() -> None:
    text = report_request(DATA)
    assert text.startswith("Write the weekly incident report for project INC, 2026-W47")
    assert parse_report_request(text) == DATA
    assert parse_report_request("Write the weekly incident report, no data") is None
    assert parse_report_request("Summarise the workspace") is None
    assert parse_revision_request(revision_request("alice", " drop the keys ")) == "drop the keys"
    assert parse_revision_request("Revision requested, but no reason line") is None


async def test_first_draft_is_the_rendered_report_labelled_offline() -> None:
    draft = await _answer(report_request(DATA))
    expected = render_report_markdown(DATA.stats, DATA.logs, WINDOW)
    assert draft == f"{OFFLINE_PREFIX}{expected}\n{OFFLINE_REPORT_FOOTER}\n"
    assert "*3* incidents opened: *2* resolved, *1* still open" in draft
    assert "label `gateway-timeout`: 2 incidents (INC-1, INC-2)" in draft
    assert await _answer(report_request(DATA)) == draft  # deterministic


async def test_revision_without_ticket_numbers_removes_every_key() -> None:
    first = await _answer(report_request(DATA))
    reason = "leave out internal ticket numbers"
    revised = await _answer(report_request(DATA), revision_request("alice", reason))
    assert "INC-" in first
    assert "INC-" not in revised
    assert "label `gateway-timeout`: 2 incidents\n" in revised
    assert "• *INC-1* [Highest, resolved in 2.0 h] gateway-timeout seen by highest" in first
    assert "• [Highest, resolved in 2.0 h] gateway-timeout seen by highest users" in revised
    assert revised.endswith(f"_Revised after review: {reason}_\n{OFFLINE_REPORT_FOOTER}\n")
    assert revised.startswith(OFFLINE_PREFIX + "*Weekly incident report: 2026-W47*")


async def test_shorter_keeps_headline_priorities_and_notable_incidents() -> None:
    revised = await _answer(report_request(DATA), revision_request("bob", "Too long, be brief"))
    first_line, *lines = revised.splitlines()
    assert first_line == OFFLINE_PREFIX + "*Weekly incident report: 2026-W47*"
    assert [line for line in lines if line.startswith("*")] == [
        "*Headline*",
        "*By priority*",
        "*Notable incidents*",
    ]


async def test_an_unrecognised_reason_is_noted_so_the_revision_differs() -> None:
    first = await _answer(report_request(DATA))
    revised = await _answer(
        report_request(DATA),
        revision_request("alice", "mention the on-call rota"),
        revision_request("bob", "and thank the payments team"),
    )
    assert revised != first
    assert revised.removesuffix(
        "_Revised after review: mention the on-call rota_\n"
        "_Revised after review: and thank the payments team_\n"
        f"{OFFLINE_REPORT_FOOTER}\n"
    ) == first.removesuffix(f"{OFFLINE_REPORT_FOOTER}\n")


async def test_the_analyst_playbook_is_unchanged_without_report_data() -> None:
    messages = [Message.system("analyst"), Message.user("Summarise the workspace")]
    completion = await OfflineModel().complete("analyst", messages, [])
    assert completion.message.content == OFFLINE_PREFIX + "Goal: Summarise the workspace\n" + (
        "No tools were needed; this is the offline model's answer."
    )


def test_the_workflow_reads_the_stats_from_a_jira_observation_cut_at_its_limit() -> None:
    """jira_search puts ``stats`` before the tickets, so a cut observation still has them."""
    tickets = [
        _ticket(f"INC-{n}", "High" if n % 3 else "Highest", n % 7 or None, f"label-{n % 4}")
        for n in range(1, 400)
    ]
    stats = compute_stats(tickets)
    full = JiraSearchResult(
        source="jira", jql="project = INC", count=len(tickets), stats=stats, tickets=tickets
    ).model_dump_json(indent=1)
    cut = full[:40_000] + f"\n… [output truncated: {len(full) - 40_000} more characters]"
    assert len(full) > 100_000
    assert json_field(cut, "source") == "jira"
    assert json_field(cut, "stats") == stats.model_dump(mode="json")
    assert json_field(full, "count") == 399
