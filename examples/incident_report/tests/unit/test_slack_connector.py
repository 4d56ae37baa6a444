"""Slack sends happen at most once per idempotency key, on every sink, across retries."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from incidents.connectors.common import CONNECTOR_RATE_LIMITED, CONNECTOR_UNAVAILABLE
from incidents.connectors.slack import (
    METADATA_EVENT_TYPE,
    SlackSender,
    SlackSettings,
    send_slack_message_tool,
)
from temporalio.exceptions import ApplicationError

from taskcraft.tools import ToolContext, ToolError
from tests.support.fake_services import (
    SLACK_CHANNEL,
    SLACK_TOKEN,
    FakeServices,
    running_fake_services,
)

KEY = "task-7/gate-final/call-1"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


@pytest.fixture
def fake() -> Iterator[FakeServices]:
    with running_fake_services() as services:
        yield services


def chat_sender(
    http: httpx.AsyncClient, fake: FakeServices, tmp_path: Path, **env: str
) -> SlackSender:
    settings = {"SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_CHANNEL": SLACK_CHANNEL, "SLACK_API_URL": fake.url("/slack/api"), **env}  # fmt: skip
    return SlackSender(http, SlackSettings.from_env(settings, tmp_path))


def webhook_sender(http: httpx.AsyncClient, fake: FakeServices, tmp_path: Path) -> SlackSender:
    env = {"SLACK_WEBHOOK_URL": fake.url("/slack/webhook/T000/B000/secret")}
    return SlackSender(http, SlackSettings.from_env(env, tmp_path))


def outbox_lines(tmp_path: Path) -> list[dict[str, object]]:
    text = (tmp_path / "outbox" / "slack.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def test_outbox_writes_a_key_once_and_reports_the_repeat(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    sender = SlackSender(http, SlackSettings.from_env({}, tmp_path))
    first = await sender.send("*Weekly report*", KEY)
    again = await sender.send("*Weekly report*", KEY)
    other = await sender.send("*Weekly report*", "another-key")
    assert (first.sink, first.already_sent, again.already_sent, other.already_sent) == ("outbox", False, True, False)  # fmt: skip
    assert again.text_sha256 == first.text_sha256
    lines = outbox_lines(tmp_path)
    assert [line["idempotency_key"] for line in lines] == [KEY, "another-key"]
    assert lines[0]["text"] == "*Weekly report*"


async def test_outbox_survives_a_line_torn_by_a_crash(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox" / "slack.jsonl"
    outbox.parent.mkdir(parents=True)
    outbox.write_text('{"idempotency_key": "torn", "te', encoding="utf-8")
    sent = await SlackSender(http, SlackSettings.from_env({}, tmp_path)).send("hello", KEY)
    assert not sent.already_sent
    torn, record = outbox.read_text(encoding="utf-8").splitlines()
    assert torn == '{"idempotency_key": "torn", "te'
    assert json.loads(record)["idempotency_key"] == KEY
    assert (
        await SlackSender(http, SlackSettings.from_env({}, tmp_path)).send("hello", KEY)
    ).already_sent


async def test_outbox_concurrent_sends_of_one_key_write_one_line(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    senders = [SlackSender(http, SlackSettings.from_env({}, tmp_path)) for _ in range(8)]
    results = await asyncio.gather(*(s.send("race", KEY) for s in senders))
    assert sum(not r.already_sent for r in results) == 1
    assert len(outbox_lines(tmp_path)) == 1


async def test_chat_posts_once_and_finds_the_earlier_post_by_its_metadata(
    http: httpx.AsyncClient, fake: FakeServices, tmp_path: Path
) -> None:
    sender = chat_sender(http, fake, tmp_path)
    first = await sender.send("*Weekly report*", KEY)
    again = await sender.send("*Weekly report*", KEY)
    assert fake.requests["slack.post"] == 1
    assert len(fake.slack_messages) == 1
    assert (first.sink, first.channel, first.already_sent) == ("chat", SLACK_CHANNEL, False)
    assert (again.already_sent, again.ts, again.text_sha256) == (True, first.ts, first.text_sha256)
    metadata = fake.slack_messages[0]["metadata"]
    assert metadata["event_type"] == METADATA_EVENT_TYPE
    assert metadata["event_payload"]["idempotency_key"] == KEY


async def test_chat_retry_after_a_refused_post_posts_exactly_once(
    http: httpx.AsyncClient, fake: FakeServices, tmp_path: Path
) -> None:
    fake.fail_next("slack.post", 500, b"upstream error")
    sender = chat_sender(http, fake, tmp_path)
    with pytest.raises(ApplicationError) as caught:
        await sender.send("report", KEY)
    assert (caught.value.type, caught.value.non_retryable) == (CONNECTOR_UNAVAILABLE, False)
    sent = await sender.send("report", KEY)  # Temporal's retry of the activity
    assert not sent.already_sent
    assert fake.requests["slack.post"] == 2
    assert len(fake.slack_messages) == 1


async def test_chat_retry_after_slack_accepted_but_the_answer_was_lost_does_not_repost(
    http: httpx.AsyncClient, fake: FakeServices, tmp_path: Path
) -> None:
    fake.fail_next("slack.post", 503, b"", apply=True)  # stored, then the answer fails
    sender = chat_sender(http, fake, tmp_path)
    with pytest.raises(ApplicationError):
        await sender.send("report", KEY)
    sent = await sender.send("report", KEY)
    assert sent.already_sent
    assert sent.ts == fake.slack_messages[0]["ts"]
    assert (fake.requests["slack.post"], len(fake.slack_messages)) == (1, 1)


async def test_chat_rate_limit_carries_retry_after(
    http: httpx.AsyncClient, fake: FakeServices, tmp_path: Path
) -> None:
    fake.fail_next("slack.post", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"})
    with pytest.raises(ApplicationError) as caught:
        await chat_sender(http, fake, tmp_path).send("report", KEY)
    assert caught.value.type == CONNECTOR_RATE_LIMITED
    assert caught.value.next_retry_delay == timedelta(seconds=30)


async def test_chat_refusals_name_the_variable_to_fix(
    http: httpx.AsyncClient, fake: FakeServices, tmp_path: Path
) -> None:
    with pytest.raises(ToolError, match=r"invalid_auth.*SLACK_BOT_TOKEN"):
        await chat_sender(http, fake, tmp_path, SLACK_BOT_TOKEN="xoxb-revoked").send("r", KEY)
    with pytest.raises(ToolError, match=r"channel_not_found.*SLACK_CHANNEL"):
        await chat_sender(http, fake, tmp_path).send("r", KEY, channel="C0999NOPE")
    assert fake.requests["slack.post"] == 0  # both stopped at the history check


async def test_webhook_sends_a_key_once_using_its_ledger(
    http: httpx.AsyncClient, fake: FakeServices, tmp_path: Path
) -> None:
    sender = webhook_sender(http, fake, tmp_path)
    first = await sender.send("report", KEY)
    again = await sender.send("report", KEY)
    assert (first.already_sent, again.already_sent, again.sink) == (False, True, "webhook")
    assert fake.webhook_posts == [{"text": "report"}]
    ledger = (tmp_path / "outbox" / "slack-webhook-ledger.jsonl").read_text(encoding="utf-8")
    assert KEY in ledger
    assert "report" not in ledger  # keys and hashes only, not the text


async def test_webhook_retry_after_a_server_error_posts_once(
    http: httpx.AsyncClient, fake: FakeServices, tmp_path: Path
) -> None:
    fake.fail_next("slack.webhook", 500, b"rollup_error")
    sender = webhook_sender(http, fake, tmp_path)
    with pytest.raises(ApplicationError):
        await sender.send("report", KEY)
    assert not (await sender.send("report", KEY)).already_sent
    assert len(fake.webhook_posts) == 1


async def test_webhook_refusal_names_the_webhook_variable(
    http: httpx.AsyncClient, fake: FakeServices, tmp_path: Path
) -> None:
    fake.fail_next("slack.webhook", 404, b"no_service")
    with pytest.raises(ToolError, match=r"no_service.*SLACK_WEBHOOK_URL"):
        await webhook_sender(http, fake, tmp_path).send("report", KEY)


async def test_tool_needs_approval_and_keys_the_send_by_the_call(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    tool = send_slack_message_tool()
    assert tool.spec.requires_approval
    ctx = ToolContext("task-7", 3, "call-1", KEY, tmp_path, http, tmp_path, {})
    first = json.loads(await tool.invoke({"text": "report"}, ctx))
    second = json.loads(await tool.invoke({"text": "report"}, ctx))
    assert (first["idempotency_key"], first["already_sent"], second["already_sent"]) == (
        KEY,
        False,
        True,
    )
    assert len(outbox_lines(tmp_path)) == 1


def test_the_bot_token_wins_over_the_webhook_and_nothing_means_the_outbox(tmp_path: Path) -> None:
    both = {"SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_CHANNEL": SLACK_CHANNEL, "SLACK_WEBHOOK_URL": "https://hooks.slack.com/x"}  # fmt: skip
    assert SlackSettings.from_env(both, tmp_path).sink == "chat"
    assert SlackSettings.from_env({"SLACK_WEBHOOK_URL": "https://hooks.slack.com/x"}, tmp_path).sink == "webhook"  # fmt: skip
    assert SlackSettings.from_env({}, tmp_path).sink == "outbox"
    assert "secret" not in repr(
        SlackSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-secret"}, tmp_path)
    )
