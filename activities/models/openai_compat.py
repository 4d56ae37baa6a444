"""The Chat Completions dialect, which OpenAI, most gateways, vLLM, Ollama and llama.cpp speak.

Only the base URL (and whether a key is needed) differs between them, so one adapter
serves all of them. It is deliberately tolerant of the small ways local servers stray
from OpenAI's answer shape (missing call ids, arguments sent as an object, content as
a list of parts), because refusing those would make local models unusable for no gain.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from temporalio.exceptions import ApplicationError

from activities.models.base import Completion, stop_reason
from activities.models.http_errors import DEFAULT_MAX_RETRY_AFTER_S, malformed, post_json
from taskcraft.agents import ToolSpec
from taskcraft.calls import StopReason
from taskcraft.errors import ErrorType
from taskcraft.messages import Message, Role, ToolCall, Usage

PROVIDER = "openai"
# ``finish_reason`` values that are not a normal end ("stop", "tool_calls").
FINISH_REASONS = {"length": StopReason.LENGTH, "content_filter": StopReason.CONTENT_FILTER}


class OpenAICompatAdapter:
    """One Chat Completions request per ``complete`` call; Temporal owns the retries."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        api_key: str | None,
        *,
        max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        self._client = client
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._api_key = api_key
        self._max_retry_after_s = max_retry_after_s
        self._timeout = timeout

    def __repr__(self) -> str:
        # Never show the key, even in a debugger or a log of the adapter object.
        return f"OpenAICompatAdapter(url={self._url!r})"

    async def complete(
        self, model: str, messages: list[Message], tools: list[ToolSpec]
    ) -> Completion:
        body: dict[str, Any] = {"model": model, "messages": to_openai_messages(messages)}
        if tools:
            body["tools"] = to_openai_tools(tools)
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
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
        return parse_openai_completion(answer)


def to_openai_messages(messages: list[Message]) -> list[dict[str, Any]]:
    wire: list[dict[str, Any]] = []
    for message in messages:
        if message.role is Role.TOOL:
            if not message.tool_call_id:
                raise ApplicationError(
                    "a tool observation has no tool_call_id, so no provider can match it "
                    "to its call",
                    type=ErrorType.MODEL_BAD_REQUEST,
                    non_retryable=True,
                )
            wire.append(
                {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
            )
        elif message.role is Role.ASSISTANT and message.tool_calls:
            wire.append(
                {
                    "role": "assistant",
                    # OpenAI documents null, not "", for a turn that is only tool calls.
                    "content": message.content or None,
                    "tool_calls": [
                        {
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": call.arguments},
                        }
                        for call in message.tool_calls
                    ],
                }
            )
        else:
            wire.append({"role": message.role.value, "content": message.content})
    return wire


def to_openai_tools(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            },
        }
        for tool in tools
    ]


def parse_openai_completion(answer: dict[str, Any]) -> Completion:
    choices = answer.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise malformed(PROVIDER, f"no choices in {_excerpt(answer)}")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise malformed(PROVIDER, f"choices[0] has no message in {_excerpt(answer)}")
    text = _content_text(message.get("content"))
    calls = [_parse_tool_call(raw) for raw in message.get("tool_calls") or []]
    stop, stop_detail = stop_reason(
        "finish_reason", choices[0].get("finish_reason"), FINISH_REASONS
    )
    # Cut off or filtered before a word was written is still an answer the step handles.
    if not text.strip() and not calls and stop is StopReason.END:
        raise malformed(PROVIDER, "empty answer")
    return Completion(
        message=Message(role=Role.ASSISTANT, content=text, tool_calls=calls),
        usage=_parse_usage(answer.get("usage")),
        stop_reason=stop,
        stop_detail=stop_detail,
    )


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        # Some gateways answer with content parts, as requests may send them.
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    raise malformed(PROVIDER, f"message content is a {type(content).__name__}")


def _parse_tool_call(raw: Any) -> ToolCall:
    function = raw.get("function") if isinstance(raw, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(raw, dict) or not isinstance(function, dict) or not isinstance(name, str):
        raise malformed(PROVIDER, f"tool call without a function name: {raw!r}")
    arguments = function.get("arguments")
    if arguments is None:
        arguments = "{}"
    elif not isinstance(arguments, str):
        # Ollama has sent an object here; the neutral form is always the JSON text.
        arguments = json.dumps(arguments)
    call_id = raw.get("id")
    if not isinstance(call_id, str) or not call_id:
        # Some local servers omit ids; the workflow still needs one to pair the answer.
        call_id = f"call_{uuid.uuid4().hex[:24]}"
    return ToolCall(id=call_id, name=name, arguments=arguments)


def _parse_usage(usage: Any) -> Usage:
    if not isinstance(usage, dict):
        return Usage()
    return Usage(
        input_tokens=_count(usage.get("prompt_tokens")),
        output_tokens=_count(usage.get("completion_tokens")),
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _excerpt(answer: dict[str, Any]) -> str:
    return json.dumps(answer)[:300]
