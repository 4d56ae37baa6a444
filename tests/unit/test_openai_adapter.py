"""The Chat Completions adapter against the loopback fake, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from activities.models.openai_compat import OpenAICompatAdapter
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

API_KEY = "sk-test-0123456789abcdef"
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
def adapter(fake: FakeProviders, http: httpx.AsyncClient) -> OpenAICompatAdapter:
    return OpenAICompatAdapter(http, fake.openai_base_url, API_KEY)


async def test_conversation_and_tools_become_chat_completions_messages(
    fake: FakeProviders, adapter: OpenAICompatAdapter
) -> None:
    """Every neutral role maps to its Chat Completions shape, tool calls and results paired."""
    call = ToolCall(id="call_1", name="read_file", arguments='{"path": "a.txt"}')
    messages = [
        Message.system("Be brief."),
        Message.user("What is in a.txt?"),
        Message(role=Role.ASSISTANT, tool_calls=[call]),
        Message.tool(call, "no such file", is_error=True),
        Message(role=Role.ASSISTANT, content="It does not exist."),
        Message.user("Thanks."),
    ]

    await adapter.complete("gpt-test", messages, [READ_FILE])

    [request] = fake.requests("openai")
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.body == {
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is in a.txt?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "read_file", "arguments": '{"path": "a.txt"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "no such file"},
            {"role": "assistant", "content": "It does not exist."},
            {"role": "user", "content": "Thanks."},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "read_file",
                    "description": "Read a file from the workspace.",
                    "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
                },
            }
        ],
    }


async def test_text_answer_and_usage_are_parsed(
    fake: FakeProviders, adapter: OpenAICompatAdapter
) -> None:
    fake.script(reply("Hello there.", input_tokens=42, output_tokens=9))

    completion = await adapter.complete("gpt-test", [Message.user("hi")], [])

    assert completion.message == Message(role=Role.ASSISTANT, content="Hello there.")
    assert completion.usage == Usage(input_tokens=42, output_tokens=9)


async def test_tool_calls_with_null_content_are_parsed(
    fake: FakeProviders, adapter: OpenAICompatAdapter
) -> None:
    fake.script(
        reply(
            tool_calls=[
                FakeToolCall("read_file", {"path": "a.txt"}, id="call_a"),
                FakeToolCall("list_dir", "{}", id="call_b"),
            ]
        )
    )

    completion = await adapter.complete("gpt-test", [Message.user("look")], [READ_FILE])

    assert completion.message.content == ""
    assert completion.message.tool_calls == [
        ToolCall(id="call_a", name="read_file", arguments='{"path": "a.txt"}'),
        ToolCall(id="call_b", name="list_dir", arguments="{}"),
    ]


async def test_parsed_tool_call_round_trips_into_the_next_request(
    fake: FakeProviders, adapter: OpenAICompatAdapter
) -> None:
    """The fake refuses unpaired tool messages, so the second call proves the pairing."""
    fake.script(reply(tool_calls=[FakeToolCall("read_file", {"path": "a"}, id="call_9")]))
    fake.script(reply("The file says hi."))
    history = [Message.user("read a")]

    first = await adapter.complete("gpt-test", history, [READ_FILE])
    history += [first.message, Message.tool(first.message.tool_calls[0], "hi")]
    second = await adapter.complete("gpt-test", history, [READ_FILE])

    assert second.message.content == "The file says hi."
    sent = fake.requests("openai")[1].body["messages"]
    assert sent[1]["tool_calls"][0]["id"] == "call_9"
    assert sent[2] == {"role": "tool", "tool_call_id": "call_9", "content": "hi"}


async def test_local_server_needs_no_key_and_no_v1_prefix(
    fake: FakeProviders, http: httpx.AsyncClient
) -> None:
    """Ollama-style set-ups: no Authorization header, base URL used exactly as given."""
    adapter = OpenAICompatAdapter(http, fake.url + "/", None)

    await adapter.complete("llama3.2:3b", [Message.user("hi")], [])

    [request] = fake.requests("openai")
    assert request.path == "/chat/completions"
    assert "authorization" not in request.headers
    assert "tools" not in request.body
    assert request.model == "llama3.2:3b"


async def test_local_server_quirks_are_tolerated(
    fake: FakeProviders, adapter: OpenAICompatAdapter
) -> None:
    """Content parts, object arguments and missing call ids still yield a usable answer."""
    answer = {
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "Checking "},
                        {"type": "text", "text": "now."},
                    ],
                    "tool_calls": [{"function": {"name": "read_file", "arguments": {"path": "b"}}}],
                }
            }
        ]
    }
    fake.script(Step(body=json.dumps(answer)))

    completion = await adapter.complete("local", [Message.user("b?")], [READ_FILE])

    assert completion.message.content == "Checking now."
    [call] = completion.message.tool_calls
    assert (call.name, call.arguments) == ("read_file", '{"path": "b"}')
    assert call.id.startswith("call_")
    assert len(call.id) > len("call_")
    assert completion.usage == Usage()


async def test_a_normal_end_is_reported_as_such(
    fake: FakeProviders, adapter: OpenAICompatAdapter
) -> None:
    """finish_reason "stop" and "tool_calls" are the normal end, with no words recorded."""
    fake.script(reply("Done."), reply(tool_calls=[FakeToolCall("read_file", {"path": "a"})]))

    for _ in range(2):
        completion = await adapter.complete("gpt-test", [Message.user("go")], [READ_FILE])
        assert (completion.stop_reason, completion.stop_detail) == (StopReason.END, "")


async def test_an_answer_cut_off_at_the_output_limit_is_reported_with_its_partial_calls(
    fake: FakeProviders, adapter: OpenAICompatAdapter
) -> None:
    """finish_reason "length": the text and any (broken) tool call come back, marked LENGTH."""
    fake.script(truncated("The answer is", [FakeToolCall("read_file", '{"pa', id="call_1")]))

    completion = await adapter.complete("gpt-test", [Message.user("go")], [READ_FILE])

    assert completion.stop_reason is StopReason.LENGTH
    assert completion.stop_detail == 'finish_reason "length"'
    assert completion.message.content == "The answer is"
    assert completion.message.tool_calls == [
        ToolCall(id="call_1", name="read_file", arguments='{"pa')
    ]


@pytest.mark.parametrize(
    ("step", "reason", "detail"),
    [
        (truncated(), StopReason.LENGTH, 'finish_reason "length"'),
        (filtered(), StopReason.CONTENT_FILTER, 'finish_reason "content_filter"'),
    ],
    ids=["length", "content-filter"],
)
async def test_a_stop_before_any_text_is_an_answer_not_a_malformed_one(
    fake: FakeProviders,
    adapter: OpenAICompatAdapter,
    step: Step,
    reason: StopReason,
    detail: str,
) -> None:
    """Empty content with finish_reason "length" or "content_filter" is reported, not retried
    as an empty (malformed) answer: retrying a filtered request gets the same refusal."""
    fake.script(step)

    completion = await adapter.complete("gpt-test", [Message.user("go")], [])

    assert (completion.stop_reason, completion.stop_detail) == (reason, detail)
    assert completion.message.content == ""


async def test_unknown_finish_reasons_count_as_a_normal_end(
    fake: FakeProviders, adapter: OpenAICompatAdapter
) -> None:
    """A local server's own finish_reason ("eos") or none at all does not stop the task."""
    fake.script(Step("Fine.", stop="eos"))
    answer = {"choices": [{"message": {"role": "assistant", "content": "Also fine."}}]}
    fake.script(Step(body=json.dumps(answer)))

    first = await adapter.complete("gpt-test", [Message.user("go")], [])
    second = await adapter.complete("gpt-test", [Message.user("go")], [])

    assert first.message.content == "Fine."
    assert [first.stop_reason, second.stop_reason] == [StopReason.END, StopReason.END]


async def test_adapter_repr_hides_the_key(adapter: OpenAICompatAdapter) -> None:
    assert API_KEY not in repr(adapter)
    assert "/v1/chat/completions" in repr(adapter)
