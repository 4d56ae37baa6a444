"""The Messages API adapter against the loopback fake, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from activities.models.anthropic import AnthropicAdapter
from taskcraft.agents import ToolSpec
from taskcraft.calls import StopReason
from taskcraft.messages import Message, Role, ToolCall, Usage
from tests.support.fake_providers import (
    FakeProviders,
    FakeToolCall,
    Step,
    filtered,
    reply,
    truncated,
)

API_KEY = "sk-ant-test-0123456789"
READ_FILE = ToolSpec(
    name="read_file",
    description="Read a file from the workspace.",
    parameters={"type": "object", "properties": {"path": {"type": "string"}}},
)


@pytest.fixture
def fake() -> Iterator[FakeProviders]:
    with FakeProviders() as server:
        yield server


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """One client per module: building its TLS context costs more than a test."""
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
def adapter(fake: FakeProviders, http: httpx.AsyncClient) -> AnthropicAdapter:
    return AnthropicAdapter(http, fake.anthropic_base_url, API_KEY)


async def test_conversation_becomes_messages_api_turns(
    fake: FakeProviders, adapter: AnthropicAdapter
) -> None:
    """System text moves to `system`; tool results and the user's follow-up share one turn."""
    good = ToolCall(id="toolu_1", name="read_file", arguments='{"path": "a.txt"}')
    # Broken arguments can arrive from another provider before a fail-over.
    broken = ToolCall(id="toolu_2", name="read_file", arguments='{"path": ')
    messages = [
        Message.system("Be brief."),
        Message.system("Never guess."),
        Message.user("Read a.txt and b.txt."),
        Message(role=Role.ASSISTANT, content="Reading both.", tool_calls=[good, broken]),
        Message.tool(good, "alpha"),
        Message.tool(broken, "arguments are not valid JSON", is_error=True),
        Message.user("Hurry."),
    ]

    await adapter.complete("claude-test", messages, [READ_FILE])

    [request] = fake.requests("anthropic")
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == API_KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.body == {
        "model": "claude-test",
        "max_tokens": 4096,
        "system": "Be brief.\n\nNever guess.",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Read a.txt and b.txt."}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Reading both."},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "read_file",
                        "input": {"path": "a.txt"},
                    },
                    {
                        "type": "tool_use",
                        "id": "toolu_2",
                        "name": "read_file",
                        "input": {"_unparsed_arguments": '{"path": '},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": "alpha",
                        "is_error": False,
                    },
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_2",
                        "content": "arguments are not valid JSON",
                        "is_error": True,
                    },
                    {"type": "text", "text": "Hurry."},
                ],
            },
        ],
        "tools": [
            {
                "name": "read_file",
                "description": "Read a file from the workspace.",
                "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
            }
        ],
    }


async def test_max_tokens_is_configurable_and_system_omitted_when_absent(
    fake: FakeProviders, http: httpx.AsyncClient
) -> None:
    adapter = AnthropicAdapter(http, fake.anthropic_base_url + "/", API_KEY, max_tokens=1000)

    await adapter.complete("claude-test", [Message.user("hi")], [])

    [request] = fake.requests("anthropic")
    assert request.body["max_tokens"] == 1000
    assert "system" not in request.body
    assert "tools" not in request.body


async def test_text_and_tool_use_blocks_are_parsed_with_usage(
    fake: FakeProviders, adapter: AnthropicAdapter
) -> None:
    fake.script(
        reply(
            "Let me look.",
            [FakeToolCall("read_file", {"path": "a", "lines": [1, 2]}, id="toolu_x")],
            input_tokens=30,
            output_tokens=4,
        )
    )

    completion = await adapter.complete("claude-test", [Message.user("a?")], [READ_FILE])

    assert completion.message == Message(
        role=Role.ASSISTANT,
        content="Let me look.",
        tool_calls=[
            ToolCall(id="toolu_x", name="read_file", arguments='{"path": "a", "lines": [1, 2]}')
        ],
    )
    assert completion.usage == Usage(input_tokens=30, output_tokens=4)


async def test_cached_prompt_tokens_count_as_input_and_other_blocks_are_ignored(
    fake: FakeProviders, adapter: AnthropicAdapter
) -> None:
    answer = {
        "type": "message",
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "text", "text": "Part one, "},
            {"type": "text", "text": "part two."},
        ],
        "usage": {
            "input_tokens": 5,
            "cache_creation_input_tokens": 100,
            "cache_read_input_tokens": 20,
            "output_tokens": 8,
        },
    }
    fake.script(Step(body=json.dumps(answer)))

    completion = await adapter.complete("claude-test", [Message.user("go")], [])

    assert completion.message.content == "Part one, part two."
    assert completion.message.tool_calls == []
    assert completion.usage == Usage(input_tokens=125, output_tokens=8)


async def test_parsed_tool_use_round_trips_into_the_next_request(
    fake: FakeProviders, adapter: AnthropicAdapter
) -> None:
    """The fake refuses tool results that do not answer the previous turn's tool_use ids."""
    fake.script(
        reply(
            tool_calls=[
                FakeToolCall("read_file", {"path": "a"}, id="toolu_a"),
                FakeToolCall("read_file", {"path": "b"}, id="toolu_b"),
            ]
        )
    )
    fake.script(reply("Both read."))
    history = [Message.system("sys"), Message.user("read a and b")]

    first = await adapter.complete("claude-test", history, [READ_FILE])
    history += [first.message, *(Message.tool(c, "ok") for c in first.message.tool_calls)]
    second = await adapter.complete("claude-test", history, [READ_FILE])

    assert second.message.content == "Both read."
    turns = fake.requests("anthropic")[1].body["messages"]
    assert [turn["role"] for turn in turns] == ["user", "assistant", "user"]
    assert [block["tool_use_id"] for block in turns[2]["content"]] == ["toolu_a", "toolu_b"]


async def test_fake_refuses_unmerged_tool_results(
    fake: FakeProviders, http: httpx.AsyncClient
) -> None:
    """Guards the merging test above: the fake must reject what the real API rejects."""
    use = {"type": "tool_use", "id": "t1", "name": "f", "input": {}}
    result = {"type": "tool_result", "tool_use_id": "t1", "content": "ok"}
    body = {
        "model": "claude-test",
        "max_tokens": 10,
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [use]},
            {"role": "user", "content": [result]},
            {"role": "user", "content": "and?"},
        ],
    }

    response = await http.post(
        fake.anthropic_base_url + "/v1/messages",
        json=body,
        headers={"anthropic-version": "2023-06-01"},
    )

    assert response.status_code == 400
    assert "alternate" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("step", "reason", "detail"),
    [
        (reply("Done."), StopReason.END, ""),
        (reply(tool_calls=[FakeToolCall("read_file", {"path": "a"})]), StopReason.END, ""),
        (truncated("The answer is"), StopReason.LENGTH, 'stop_reason "max_tokens"'),
        (truncated(), StopReason.LENGTH, 'stop_reason "max_tokens"'),
        (
            Step("Cut", stop="model_context_window_exceeded"),
            StopReason.LENGTH,
            'stop_reason "model_context_window_exceeded"',
        ),
        (filtered(), StopReason.CONTENT_FILTER, 'stop_reason "refusal"'),
        (Step("Paused.", stop="pause_turn"), StopReason.END, ""),
    ],
    ids=["end-turn", "tool-use", "max-tokens", "max-tokens-empty", "context", "refusal", "other"],
)
async def test_stop_reasons_are_reported(
    fake: FakeProviders,
    adapter: AnthropicAdapter,
    step: Step,
    reason: StopReason,
    detail: str,
) -> None:
    """max_tokens (even before any text) is LENGTH, refusal is CONTENT_FILTER; the others end."""
    fake.script(step)

    completion = await adapter.complete("claude-test", [Message.user("go")], [READ_FILE])

    assert (completion.stop_reason, completion.stop_detail) == (reason, detail)
    assert completion.message.content == step.text
    assert fake.requests("anthropic")[0].body["messages"][0]["role"] == "user"


async def test_a_tool_use_cut_off_at_max_tokens_comes_back_marked(
    fake: FakeProviders, adapter: AnthropicAdapter
) -> None:
    """The step, not the adapter, decides never to run a call cut off mid-way."""
    fake.script(truncated("Reading.", [FakeToolCall("read_file", '{"pa', id="toolu_1")]))

    completion = await adapter.complete("claude-test", [Message.user("go")], [READ_FILE])

    assert completion.stop_reason is StopReason.LENGTH
    assert completion.message.tool_calls == [
        ToolCall(id="toolu_1", name="read_file", arguments='{"pa')
    ]


async def test_adapter_repr_hides_the_key(adapter: AnthropicAdapter) -> None:
    assert API_KEY not in repr(adapter)
