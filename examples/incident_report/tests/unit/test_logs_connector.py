"""Log sources: JSON-lines folders, and CloudWatch FilterLogEvents on a loopback server."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from incidents.connectors.cloudwatch import CloudWatchLogSource, CloudWatchSettings
from incidents.connectors.common import CONNECTOR_RATE_LIMITED, CONNECTOR_UNAVAILABLE
from incidents.connectors.logs import LocalLogSource, LogsSettings, query_logs_tool
from incidents.data import ReportWindow
from temporalio.exceptions import ApplicationError

from taskcraft.errors import ConfigError
from taskcraft.tools import ToolContext, ToolError
from tests.support import fake_services
from tests.support.fake_services import FakeServices, running_fake_services

WEEK = ReportWindow.from_iso_week("2026-W47")
START, END = WEEK.start, WEEK.end
needs_botocore = pytest.mark.skipif(
    importlib.util.find_spec("botocore") is None,
    reason="botocore is not installed (pip install 'taskcraft[aws]'): SigV4 signing is botocore's",
)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


@pytest.fixture
def fake() -> Iterator[FakeServices]:
    with running_fake_services() as services:
        yield services


def line(ts: str, level: str, service: str, message: str) -> str:
    return json.dumps({"ts": ts, "level": level, "service": service, "message": message})


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "payments.jsonl").write_text(
        "\n".join(
            [
                line("2026-11-15T23:59:59Z", "ERROR", "payments-api", "before the window"),
                line(
                    "2026-11-16T08:00:00Z", "ERROR", "payments-api", "gateway timeout after 30000ms"
                ),
                "not json at all",
                '{"ts": "2026-11-16T08:00:01Z", "level": "INFO"}',
                line("2026-11-16T09:00:00Z", "INFO", "payments-api", "charge captured"),
                line("2026-11-23T00:00:00Z", "ERROR", "payments-api", "after the window"),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    (folder / "auth.jsonl").write_text(
        line("2026-11-17T10:00:00+01:00", "WARNING", "auth-service", "gateway timeout (idp)")
        + "\n",
        encoding="utf-8",
    )
    (folder / "notes.txt").write_text("ignored: not a .jsonl file\n", encoding="utf-8")
    return folder


def context(http: httpx.AsyncClient, tmp_path: Path, env: dict[str, str]) -> ToolContext:
    return ToolContext("t", 1, "c", "t/1/c", tmp_path, http, tmp_path, env)


async def test_local_source_keeps_the_window_and_skips_lines_that_are_not_events(
    log_dir: Path,
) -> None:
    batch = await LocalLogSource(log_dir).query(START, END, "", 100)
    assert [e.message for e in batch.events] == [
        "gateway timeout after 30000ms",
        "charge captured",
        "gateway timeout (idp)",
    ]
    assert (batch.scanned, batch.truncated) == (3, False)
    assert batch.events[2].level == "WARN"
    assert batch.events[2].timestamp == datetime(2026, 11, 17, 9, tzinfo=UTC)


async def test_local_filter_is_a_regex_or_else_a_substring(log_dir: Path) -> None:
    source = LocalLogSource(log_dir)
    errors = await source.query(START, END, r"^ERROR .*timeout", 100)
    assert [e.service for e in errors.events] == ["payments-api"]
    assert errors.scanned == 3  # every event in the window was read; one matched
    unbalanced = await source.query(START, END, "timeout (idp", 100)  # not a valid regex
    assert [e.service for e in unbalanced.events] == ["auth-service"]


async def test_max_events_keeps_the_earliest_and_says_it_truncated(log_dir: Path) -> None:
    batch = await LocalLogSource(log_dir).query(START, END, "", 2)
    assert [e.message for e in batch.events] == ["gateway timeout after 30000ms", "charge captured"]
    assert batch.truncated


async def test_tool_summarises_the_shipped_sample_week(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Pinned: the demo's log numbers for 2026-W47, led by the payment gateway timeouts."""
    args = {"start": "2026-11-16T00:00:00Z", "end": "2026-11-23T00:00:00Z"}
    result = json.loads(await query_logs_tool().invoke(args, context(http, tmp_path, {})))
    assert (result["source"], result["events_scanned"], result["truncated"]) == (
        "sample",
        4108,
        False,
    )
    summary = result["summary"]
    assert summary["by_level"] == {"INFO": 2266, "ERROR": 1377, "WARN": 465}
    top = summary["top_errors"][0]
    assert (top["pattern"], top["count"]) == ("payment gateway timeout after {n}ms (order {id}, attempt {n})", 276)  # fmt: skip
    assert "events" not in result  # summaries only: raw events would swell the history


async def test_tool_reads_a_configured_folder_and_accepts_naive_times(
    http: httpx.AsyncClient, tmp_path: Path, log_dir: Path
) -> None:
    args = {"start": "2026-11-16T00:00:00", "end": "2026-11-23", "filter_pattern": "timeout"}
    ctx = context(http, tmp_path, {"TASKCRAFT_LOG_DIR": str(log_dir)})
    result = json.loads(await query_logs_tool().invoke(args, ctx))
    assert (result["source"], result["events_summarised"]) == ("local", 2)
    assert result["start"] == "2026-11-16T00:00:00Z"


async def test_tool_refuses_cloudwatch_without_its_settings(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    ctx = context(http, tmp_path, {"TASKCRAFT_LOG_SOURCE": "cloudwatch"})
    with pytest.raises(ToolError, match="AWS_REGION is not set") as caught:
        await query_logs_tool().invoke({"start": "2026-11-16", "end": "2026-11-17"}, ctx)
    assert "CLOUDWATCH_LOG_GROUP" in str(caught.value)


def test_a_window_that_ends_before_it_starts_is_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="end must be after start"):
        query_logs_tool().args_model.model_validate({"start": "2026-11-17", "end": "2026-11-16"})


def test_missing_botocore_is_reported_as_install_the_aws_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ["botocore", "botocore.auth", "botocore.awsrequest", "botocore.credentials", "botocore.session"]:  # fmt: skip
        monkeypatch.setitem(sys.modules, name, None)
    settings = LogsSettings.from_env({"TASKCRAFT_LOG_SOURCE": "cloudwatch", "AWS_REGION": "eu-west-1", "CLOUDWATCH_LOG_GROUP": "g"})  # fmt: skip
    with pytest.raises(ConfigError, match=r"install taskcraft\[aws\]"):
        settings.validate()


def cloudwatch_env(fake: FakeServices, **overrides: str) -> dict[str, str]:
    return {
        "AWS_REGION": fake_services.AWS_REGION,
        "CLOUDWATCH_LOG_GROUP": fake_services.LOG_GROUP,
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": fake.base_url,
        "AWS_ACCESS_KEY_ID": fake_services.AWS_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": fake_services.AWS_SECRET_KEY,
        **overrides,
    }


def cloudwatch_event(minutes: int, message: str) -> dict[str, Any]:
    at = START + timedelta(minutes=minutes)
    return {"logStreamName": "s", "timestamp": int(at.timestamp() * 1000), "message": message}


@needs_botocore
async def test_cloudwatch_requests_are_sigv4_signed_and_follow_next_tokens(
    fake: FakeServices, http: httpx.AsyncClient
) -> None:
    structured = [{"level": "error", "service": "payments-api", "message": f"timeout {n}"} for n in range(6)]  # fmt: skip
    fake.cloudwatch_events = [
        cloudwatch_event(-1, "ERROR before the window"),
        *(cloudwatch_event(n, json.dumps(fields)) for n, fields in enumerate(structured)),
        cloudwatch_event(7, "[WARN] plain text line with a timeout"),
        cloudwatch_event(8, "no level here"),
    ]
    source = CloudWatchLogSource(http, CloudWatchSettings.from_env(cloudwatch_env(fake)))
    batch = await source.query(START, END, "", 100)
    assert fake.signature_checks == ["ok", "ok", "ok"]
    assert [b.get("nextToken") for b in fake.cloudwatch_bodies] == [None, "3", "6"]
    first = fake.cloudwatch_bodies[0]
    assert (first["startTime"], first["endTime"]) == (int(START.timestamp() * 1000), int(END.timestamp() * 1000) - 1)  # fmt: skip
    assert batch.scanned == 8
    assert [(e.level, e.service) for e in batch.events[:1]] == [("ERROR", "payments-api")]
    assert [(e.level, e.service) for e in batch.events[-2:]] == [("WARN", "sample"), ("UNKNOWN", "sample")]  # fmt: skip


@needs_botocore
async def test_cloudwatch_session_tokens_are_sent_and_signed(
    fake: FakeServices, http: httpx.AsyncClient
) -> None:
    fake.cloudwatch_events = [cloudwatch_event(1, "ERROR timeout")]
    settings = CloudWatchSettings.from_env(cloudwatch_env(fake, AWS_SESSION_TOKEN="session-xyz"))
    batch = await CloudWatchLogSource(http, settings).query(START, END, "timeout", 10)
    assert len(batch.events) == 1
    assert fake.signature_checks == ["ok"]
    assert fake.cloudwatch_bodies[0]["filterPattern"] == "timeout"


@needs_botocore
async def test_cloudwatch_errors_are_told_apart_by_aws_error_type(
    fake: FakeServices, http: httpx.AsyncClient
) -> None:
    source = CloudWatchLogSource(http, CloudWatchSettings.from_env(cloudwatch_env(fake)))
    fake.fail_next("cloudwatch.filter", 400, {"__type": "ThrottlingException", "message": "Rate exceeded"})  # fmt: skip
    with pytest.raises(ApplicationError) as throttled:
        await source.query(START, END, "", 10)
    assert (throttled.value.type, throttled.value.non_retryable) == (CONNECTOR_RATE_LIMITED, False)
    fake.fail_next("cloudwatch.filter", 503, b"")
    with pytest.raises(ApplicationError) as unavailable:
        await source.query(START, END, "", 10)
    assert unavailable.value.type == CONNECTOR_UNAVAILABLE
    missing = CloudWatchSettings.from_env(cloudwatch_env(fake, CLOUDWATCH_LOG_GROUP="/nope"))
    with pytest.raises(ToolError, match="check CLOUDWATCH_LOG_GROUP and AWS_REGION"):
        await CloudWatchLogSource(http, missing).query(START, END, "", 10)


@needs_botocore
async def test_cloudwatch_refusing_the_signature_names_the_credential_variables(
    fake: FakeServices, http: httpx.AsyncClient
) -> None:
    wrong = CloudWatchSettings.from_env(
        cloudwatch_env(fake, AWS_SECRET_ACCESS_KEY="not-the-secret")
    )
    with pytest.raises(ToolError, match="AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"):
        await CloudWatchLogSource(http, wrong).query(START, END, "", 10)
    assert fake.signature_checks == ["signature mismatch"]


@needs_botocore
async def test_tool_summarises_cloudwatch_when_it_is_the_configured_source(
    fake: FakeServices, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    fake.cloudwatch_events = [cloudwatch_event(n, f"ERROR gateway timeout after {n}ms") for n in range(4)]  # fmt: skip
    env = cloudwatch_env(fake, TASKCRAFT_LOG_SOURCE="cloudwatch")
    args = {"start": START.isoformat(), "end": END.isoformat()}
    result = json.loads(await query_logs_tool().invoke(args, context(http, tmp_path, env)))
    assert (result["source"], result["events_scanned"]) == ("cloudwatch", 4)
    assert result["summary"]["top_errors"][0]["count"] == 4
