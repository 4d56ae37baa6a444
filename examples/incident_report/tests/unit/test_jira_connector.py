"""The Jira connector against a loopback Jira, and the sample source the demo reads."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from incidents.connectors.common import (
    CONNECTOR_RATE_LIMITED,
    CONNECTOR_UNAVAILABLE,
    sample_data_dir,
)
from incidents.connectors.jira import (
    JiraClient,
    JiraSettings,
    SampleJiraSource,
    jira_search_tool,
    ticket_from_jira,
)
from incidents.data import ReportWindow, compute_stats
from temporalio.exceptions import ApplicationError

from taskcraft.errors import ConfigError
from taskcraft.tools import ToolContext, ToolError
from tests.support.fake_services import JIRA_BEARER, FakeServices, running_fake_services

W47_JQL = ReportWindow.from_iso_week("2026-W47").jira_jql("INC")


def sample_issues() -> list[dict[str, object]]:
    text = (sample_data_dir() / "tickets.json").read_text(encoding="utf-8")
    return list(json.loads(text)["issues"])


@pytest.fixture
def fake() -> Iterator[FakeServices]:
    with running_fake_services() as services:
        services.jira_issues = sample_issues()[3:8]  # five issues: three pages of two
        yield services


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


def bearer_settings(fake: FakeServices, **overrides: str) -> JiraSettings:
    env = {"JIRA_BASE_URL": fake.base_url, "JIRA_BEARER_TOKEN": JIRA_BEARER, **overrides}
    return JiraSettings.from_env(env)


def context(http: httpx.AsyncClient, tmp_path: Path, env: dict[str, str]) -> ToolContext:
    return ToolContext(
        task_id="task-1",
        step=1,
        call_id="call-1",
        idempotency_key="task-1/1/call-1",
        workspace=tmp_path,
        http=http,
        data_dir=tmp_path,
        env=env,
    )


async def test_cloud_search_follows_next_page_tokens_and_maps_the_report_fields(
    fake: FakeServices, http: httpx.AsyncClient
) -> None:
    tickets = await JiraClient(http, bearer_settings(fake)).search("project = INC")
    assert [t.key for t in tickets] == ["INC-1201", "INC-1202", "INC-1203", "INC-1204", "INC-1205"]
    assert fake.requests["jira.jql"] == 3
    assert [body.get("nextPageToken") for body in fake.jira_bodies] == [None, "tok2", "tok4"]
    assert "resolutiondate" in fake.jira_bodies[0]["fields"]
    first = tickets[0]
    assert (first.priority, first.status) == ("Highest", "Done")
    assert first.created == datetime(2026, 11, 16, 7, 52, 11, tzinfo=UTC)  # sent as +0100
    assert first.resolved == datetime(2026, 11, 16, 10, 14, 37, tzinfo=UTC)
    assert first.components == ["checkout", "payments"]
    assert first.labels == ["customer-impact", "gateway-timeout"]


async def test_server_search_pages_with_start_at_until_the_total(
    fake: FakeServices, http: httpx.AsyncClient
) -> None:
    settings = bearer_settings(fake, JIRA_SEARCH_API="classic")
    tickets = await JiraClient(http, settings).search("project = INC")
    assert len(tickets) == 5
    assert fake.requests["jira.classic"] == 3
    assert [body["startAt"] for body in fake.jira_bodies] == [0, 2, 4]


async def test_max_results_stops_paging_early(fake: FakeServices, http: httpx.AsyncClient) -> None:
    tickets = await JiraClient(http, bearer_settings(fake)).search("project = INC", max_results=3)
    assert len(tickets) == 3
    assert [body["maxResults"] for body in fake.jira_bodies] == [3, 1]


async def test_basic_auth_sends_email_and_api_token(
    fake: FakeServices, http: httpx.AsyncClient
) -> None:
    pair = base64.b64encode(b"ops@example.com:api-token").decode()
    fake.jira_authorization = f"Basic {pair}"
    env = {"JIRA_BASE_URL": fake.base_url, "JIRA_EMAIL": "ops@example.com", "JIRA_API_TOKEN": "api-token"}  # fmt: skip
    assert len(await JiraClient(http, JiraSettings.from_env(env)).search("x")) == 5


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"JIRA_BEARER_TOKEN": "stale"}, "JIRA_BEARER_TOKEN"),
        (
            {"JIRA_EMAIL": "a@example.com", "JIRA_API_TOKEN": "wrong"},
            "JIRA_EMAIL and JIRA_API_TOKEN",
        ),
    ],
)
async def test_refused_credentials_are_a_tool_error_naming_the_variables(
    fake: FakeServices, http: httpx.AsyncClient, env: dict[str, str], named: str
) -> None:
    client = JiraClient(http, JiraSettings.from_env({"JIRA_BASE_URL": fake.base_url, **env}))
    with pytest.raises(ToolError, match=f"refused the credentials in {named}"):
        await client.search("x")


async def test_rate_limit_is_retryable_with_the_servers_retry_after(
    fake: FakeServices, http: httpx.AsyncClient
) -> None:
    fake.fail_next("jira.jql", 429, {"errorMessages": ["slow down"]}, {"Retry-After": "17"})
    client = JiraClient(http, bearer_settings(fake))
    with pytest.raises(ApplicationError) as caught:
        await client.search("x")
    assert caught.value.type == CONNECTOR_RATE_LIMITED
    assert not caught.value.non_retryable
    assert caught.value.next_retry_delay == timedelta(seconds=17)
    assert len(await client.search("x")) == 5  # what Temporal's retry would see


async def test_server_errors_are_retryable_without_a_delay_hint(
    fake: FakeServices, http: httpx.AsyncClient
) -> None:
    fake.fail_next("jira.jql", 502, b"bad gateway")
    with pytest.raises(ApplicationError) as caught:
        await JiraClient(http, bearer_settings(fake)).search("x")
    assert caught.value.type == CONNECTOR_UNAVAILABLE
    assert caught.value.next_retry_delay is None


async def test_a_bad_query_reports_jiras_own_explanation(
    fake: FakeServices, http: httpx.AsyncClient
) -> None:
    fake.fail_next("jira.jql", 400, {"errorMessages": ["Field 'prioritee' does not exist."]})
    with pytest.raises(ToolError, match="Field 'prioritee' does not exist"):
        await JiraClient(http, bearer_settings(fake)).search("prioritee = High")


async def test_client_refuses_incomplete_settings_before_any_request(
    fake: FakeServices, http: httpx.AsyncClient
) -> None:
    settings = JiraSettings.from_env({"JIRA_BASE_URL": fake.base_url, "JIRA_EMAIL": "a@b.c"})
    with pytest.raises(ConfigError, match="JIRA_API_TOKEN is not set"):
        JiraClient(http, settings)
    assert sum(fake.requests.values()) == 0


def test_issue_without_priority_maps_and_without_created_is_refused() -> None:
    bare = {"key": "INC-9", "fields": {"summary": "s", "priority": None, "created": "2026-11-16T10:00:00.000+0000"}}  # fmt: skip
    assert ticket_from_jira(bare).priority == "None"
    with pytest.raises(ToolError, match="INC-9"):
        ticket_from_jira({"key": "INC-9", "fields": {"summary": "s"}})


async def test_sample_week_47_tells_the_payment_gateway_story() -> None:
    """The numbers the demo report shows; change them only together with the sample data."""
    tickets, notes = await SampleJiraSource(sample_data_dir()).search(W47_JQL, 200)
    stats = compute_stats(tickets)
    assert (stats.total, stats.resolved, stats.open, stats.mttr_hours) == (32, 25, 7, 12.0)
    assert stats.by_priority == {"Highest": 3, "High": 8, "Medium": 12, "Low": 7, "Lowest": 2}
    assert stats.by_component == {"payments": 9, "checkout": 7, "search": 7, "auth": 6, "notifications": 6}  # fmt: skip
    assert [(r.name, r.count) for r in stats.recurring_failures[:2]] == [("payments", 9), ("gateway-timeout", 8)]  # fmt: skip
    assert [n.key for n in stats.notable[:3]] == ["INC-1201", "INC-1211", "INC-1222"]
    assert notes == [
        "Sample data: the tickets shipped in examples/incident_report/sample_data, not a live Jira."
    ]


async def test_sample_source_filters_by_project_and_says_what_it_ignored() -> None:
    source = SampleJiraSource(sample_data_dir())
    sec, _ = await source.search(W47_JQL.replace("INC", "SEC"), 200)
    assert [t.key for t in sec] == ["SEC-88", "SEC-89"]
    everything, notes = await source.search("project = INC AND status = Done", 200)
    assert len(everything) == 37  # no date bounds: the whole INC project
    assert "ignored: status = Done" in notes[-1]


async def test_tool_reads_the_sample_when_jira_is_not_configured(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    observation = await jira_search_tool().invoke({"jql": W47_JQL}, context(http, tmp_path, {}))
    result = json.loads(observation)
    assert (result["source"], result["count"], result["stats"]["total"]) == ("sample", 32, 32)


async def test_tool_uses_jira_when_configured_unless_sample_data_is_forced(
    fake: FakeServices, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    env = {"JIRA_BASE_URL": fake.base_url, "JIRA_BEARER_TOKEN": JIRA_BEARER}
    tool = jira_search_tool()
    live = json.loads(await tool.invoke({"jql": "project = INC"}, context(http, tmp_path, env)))
    assert (live["source"], live["count"]) == ("jira", 5)
    forced = context(http, tmp_path, {**env, "TASKCRAFT_SAMPLE_DATA": "1"})
    assert json.loads(await tool.invoke({"jql": W47_JQL}, forced))["source"] == "sample"
    assert fake.requests["jira.jql"] == 3


async def test_tool_turns_missing_credentials_into_a_tool_error_naming_them(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    ctx = context(http, tmp_path, {"JIRA_BASE_URL": "https://x.atlassian.net"})
    with pytest.raises(ToolError, match="JIRA_EMAIL and JIRA_API_TOKEN"):
        await jira_search_tool().invoke({"jql": "x"}, ctx)


def test_tool_spec_has_typed_arguments_and_a_stable_name() -> None:
    spec = jira_search_tool().spec
    assert spec.name == "jira_search"
    assert spec.parameters["required"] == ["jql"]
    assert spec.parameters["properties"]["max_results"]["default"] == 200
    assert not spec.requires_approval
