"""Anthropic's Messages API, whose shape differs from Chat Completions in three ways that matter.

System text is a top-level field rather than a message; tool calls are ``tool_use``
content blocks whose ``input`` must be a JSON object; and tool observations are
``tool_result`` blocks inside a *user* turn, so several observations in a row (and any
user text after them) must share one turn or the API refuses the conversation.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from temporalio.exceptions import ApplicationError

from activities.models.base import Completion, stop_reason
from activities.models.http_errors import DEFAULT_MAX_RETRY_AFTER_S, malformed, post_json
from taskcraft.agents import ToolSpec
from taskcraft.calls import StopReason
from taskcraft.errors import ErrorType
from taskcraft.messages import Message, Role, ToolCall, Usage

PROVIDER = "anthropic"
ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
# ``stop_reason`` values that are not a normal end ("end_turn", "tool_use", "stop_sequence").
# A full context window cuts the answer off just as the output limit does.
STOP_REASONS = {
    "max_tokens": StopReason.LENGTH,
    "model_context_window_exceeded": StopReason.LENGTH,
    "refusal": StopReason.CONTENT_FILTER,
}


class AnthropicAdapter:
    """One Messages request per ``complete`` call; Temporal owns the retries."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        api_key: str | None,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        self._client = client
        self._url = base_url.rstrip("/") + "/v1/messages"
        self._api_key = api_key
        self._max_tokens = max_tokens
        self._max_retry_after_s = max_retry_after_s
        self._timeout = timeout

    def __repr__(self) -> str:
        # Never show the key, even in a debugger or a log of the adapter object.
        return f"AnthropicAdapter(url={self._url!r}, max_tokens={self._max_tokens})"

    async def complete(
        self, model: str, messages: list[Message], tools: list[ToolSpec]
    ) -> Completion:
        system, turns = to_anthropic_messages(messages)
        body: dict[str, Any] = {"model": model, "max_tokens": self._max_tokens, "messages": turns}
        if system:
            body["system"] = system
        if tools:
            body["tools"] = to_anthropic_tools(tools)
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if self._api_key:
            headers["x-api-key"] = self._api_key
        answer = await post_json(
            self._client,
            self._url,
            provider=PROVIDER,
            headers=headers,
            body=body,
            secret=self._api_key,
            max_retry_after_s=self._max_retry_after_s,
            http_timeout=self._timeout,
        )
        return parse_anthropic_message(answer)


def to_anthropic_messages(messages: list[Message]) -> tuple[str, list[dict[str, Any]]]:
    """The ``system`` text and the turns, with consecutive same-role turns merged."""
    system_parts: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role is Role.SYSTEM:
            system_parts.append(message.content)
            continue
        role = "assistant" if message.role is Role.ASSISTANT else "user"
        blocks = _blocks(message)
        if not blocks:
            continue  # the API refuses empty turns; an empty one carries nothing anyway
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return "\n\n".join(part for part in system_parts if part), turns


def _blocks(message: Message) -> list[dict[str, Any]]:
    if message.role is Role.TOOL:
        if not message.tool_call_id:
            raise ApplicationError(
                "a tool observation has no tool_call_id, so no provider can match it to its call",
                type=ErrorType.MODEL_BAD_REQUEST,
                non_retryable=True,
            )
        return [
            {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": message.content,
                "is_error": message.is_error,
            }
        ]
    blocks: list[dict[str, Any]] = []
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    for call in message.tool_calls:
        blocks.append(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": _tool_input(call)}
        )
    return blocks


def _tool_input(call: ToolCall) -> dict[str, Any]:
    """The call's arguments as the object Anthropic insists on.

    Arguments that are not a JSON object can only come from another provider earlier in
    the task (after a fail-over); they are kept verbatim under one key so the model still
    sees what was attempted next to the error observation that answers it.
    """
    try:
        parsed: Any = json.loads(call.arguments or "{}")
    except json.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        return parsed
    return {"_unparsed_arguments": call.arguments}


def to_anthropic_tools(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
        for tool in tools
    ]


def parse_anthropic_message(answer: dict[str, Any]) -> Completion:
    content = answer.get("content")
    if not isinstance(content, list):
        raise malformed(PROVIDER, f"no content in {json.dumps(answer)[:300]}")
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in content:
        if not isinstance(block, dict):
            raise malformed(PROVIDER, f"content block is not an object: {block!r}")
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif block.get("type") == "tool_use":
            calls.append(_parse_tool_use(block))
        # Other blocks (thinking, citations, server tools) carry nothing the loop uses.
    text = "".join(texts)
    stop, stop_detail = stop_reason("stop_reason", answer.get("stop_reason"), STOP_REASONS)
    # Cut off or refused before a word was written is still an answer the step handles.
    if not text.strip() and not calls and stop is StopReason.END:
        raise malformed(PROVIDER, "empty answer")
    return Completion(
        message=Message(role=Role.ASSISTANT, content=text, tool_calls=calls),
        usage=_parse_usage(answer.get("usage")),
        stop_reason=stop,
        stop_detail=stop_detail,
    )


def _parse_tool_use(block: dict[str, Any]) -> ToolCall:
    call_id, name, tool_input = block.get("id"), block.get("name"), block.get("input")
    if not isinstance(call_id, str) or not call_id or not isinstance(name, str):
        raise malformed(PROVIDER, f"tool_use block without id or name: {block!r}")
    # A string input is a misbehaving server's raw text: pass it on for the workflow to judge.
    arguments = tool_input if isinstance(tool_input, str) else json.dumps(tool_input or {})
    return ToolCall(id=call_id, name=name, arguments=arguments)


def _parse_usage(usage: Any) -> Usage:
    """Cached prompt tokens are still prompt tokens, so they count toward the input."""
    if not isinstance(usage, dict):
        return Usage()
    input_tokens = sum(
        _count(usage.get(key))
        for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
    return Usage(input_tokens=input_tokens, output_tokens=_count(usage.get("output_tokens")))


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
