"""A loopback model provider speaking both wire APIs, scriptable with replies and faults.

Tests talk to it over real HTTP, so adapters are exercised exactly as in production:
``POST /v1/chat/completions`` and ``/chat/completions`` answer as OpenAI does,
``POST /v1/messages`` as Anthropic does. It runs in a background thread (usable from
sync and async tests) or as its own process:

    python -m tests.support.fake_providers --port 0 --script script.json

which prints ``FAKE_PROVIDERS_URL=http://127.0.0.1:PORT`` once it listens.

Script format (JSON; every key optional)::

    {
      "default": STEP,                   # when no queue answers; built in: {"text": "done"}
      "queues": [
        {"provider": "openai",           # or "anthropic"; omitted = any provider
         "model": "primary",             # omitted = any model
         "steps": [STEP, ...],           # consumed one per request, in order
         "default": STEP}                # once steps run out; omitted = fall through
      ]
    }
    STEP = {
      "text": "hello",                   # final text; no text and no calls = empty answer
      "tool_calls": [{"name": "read_file", "arguments": {"path": "a"}, "id": "call_1"}],
                                         # a string "arguments" is sent verbatim (broken JSON)
      "usage": {"input_tokens": 11, "output_tokens": 7},
      "status": 429,                     # >= 400 answers with the provider's error shape
      "error": {"message": "slow down", "code": "rate_limit_exceeded"},
      "retry_after": "3",                # Retry-After header: seconds or an HTTP date
      "body": "<html>oops</html>",       # sent verbatim instead of a rendered body
      "delay_s": 2.5,                    # wait before answering (client timeouts)
      "stop": "length",                  # how the answer ends (see below); omitted: normally
      "times": 3                         # the step repeated
    }

``stop`` speaks for both wire formats: ``"length"`` is OpenAI's ``finish_reason: "length"``
and Anthropic's ``stop_reason: "max_tokens"`` (cut off at the output limit);
``"content_filter"`` is ``finish_reason: "content_filter"`` and ``stop_reason: "refusal"``.
Any other value is sent as it is, in the provider's field.

From Python::

    with FakeProviders() as fake:                 # fake.openai_base_url, fake.anthropic_base_url
        fake.script(reply(tool_calls=[FakeToolCall("read_file", {"path": "a"})]), reply("ok"))
        fake.script(fault(429, "slow down", retry_after=3), provider="openai")
        fake.set_default(fault(503), model="primary")         # primary always fails
        fake.script(truncated("The answer is"), reply(" 42."))  # cut off, then continued
        ...
        assert fake.count("anthropic") == 2                   # also count(model="primary")
        body = fake.requests("openai")[0].body                # parsed JSON the client sent

A request is served by the most specific matching queue first: (provider, model),
(any, model), (provider, any), (any, any). A queue with steps left answers; one without
steps but with a default answers with it; otherwise the next queue is asked.

Like the real APIs it answers 400 to what they refuse (tool results that do not pair with
the previous turn's calls, Anthropic turns that do not alternate, a missing
``anthropic-version`` or ``max_tokens``), so translation bugs fail tests; ``strict=False``
turns that off. ``api_key=...`` (``--api-key``) makes it answer 401 without that key.

Another process scripts and inspects a running server over HTTP:
``POST /_fake/script`` (a script, added), ``POST /_fake/reset``, ``GET /_fake/requests``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PROVIDER_PATHS = {
    "/v1/chat/completions": "openai",
    "/chat/completions": "openai",
    "/v1/messages": "anthropic",
}


@dataclass(frozen=True)
class FakeToolCall:
    name: str
    arguments: str | dict[str, Any] = "{}"
    id: str | None = None


@dataclass(frozen=True)
class Step:
    text: str = ""
    tool_calls: tuple[FakeToolCall, ...] = ()
    input_tokens: int = 11
    output_tokens: int = 7
    status: int = 200
    error_message: str | None = None
    error_code: str | None = None
    body: str | None = None
    retry_after: str | None = None
    delay_s: float = 0.0
    stop: str | None = None  # None: the normal end (see the module docstring)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Step:
        usage = data.get("usage") or {}
        error = data.get("error") or {}
        retry_after = data.get("retry_after")
        return cls(
            text=data.get("text", ""),
            tool_calls=tuple(
                FakeToolCall(call["name"], call.get("arguments", "{}"), call.get("id"))
                for call in data.get("tool_calls", [])
            ),
            input_tokens=usage.get("input_tokens", 11),
            output_tokens=usage.get("output_tokens", 7),
            status=data.get("status", 200),
            error_message=error.get("message"),
            error_code=error.get("code"),
            body=data.get("body"),
            retry_after=None if retry_after is None else str(retry_after),
            delay_s=float(data.get("delay_s", 0.0)),
            stop=data.get("stop"),
        )


def reply(
    text: str = "",
    tool_calls: Sequence[FakeToolCall] = (),
    *,
    input_tokens: int = 11,
    output_tokens: int = 7,
    delay_s: float = 0.0,
) -> Step:
    return Step(text, tuple(tool_calls), input_tokens, output_tokens, delay_s=delay_s)


def fault(
    status: int,
    message: str | None = None,
    *,
    code: str | None = None,
    retry_after: str | float | None = None,
    body: str | None = None,
    delay_s: float = 0.0,
) -> Step:
    return Step(
        status=status,
        error_message=message,
        error_code=code,
        retry_after=None if retry_after is None else str(retry_after),
        body=body,
        delay_s=delay_s,
    )


def truncated(text: str = "", tool_calls: Sequence[FakeToolCall] = ()) -> Step:
    """An answer cut off at the output limit: ``finish_reason: "length"``, ``"max_tokens"``."""
    return Step(text, tuple(tool_calls), stop="length")


def filtered(text: str = "") -> Step:
    """An answer stopped by the provider's filter: ``"content_filter"``, ``"refusal"``."""
    return Step(text, stop="content_filter")


def malformed(body: str = "<html><body>502 Bad Gateway</body></html>") -> Step:
    """A 200 whose body is not JSON, as a misconfigured proxy sends."""
    return Step(body=body)


def empty() -> Step:
    """An assistant turn with neither text nor tool calls."""
    return Step()


@dataclass(frozen=True)
class RecordedRequest:
    provider: str
    path: str
    body: Any
    headers: dict[str, str]
    timestamp: datetime

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "path": self.path,
            "model": self.model,
            "body": self.body,
            "headers": self.headers,
            "timestamp": self.timestamp.isoformat(),
        }


@dataclass
class _Queue:
    steps: deque[Step] = field(default_factory=deque)
    default: Step | None = None


class FakeProviders:
    """The server and its script. Use as a context manager, or ``start()``/``stop()``."""

    def __init__(
        self,
        *,
        default: Step | None = None,
        api_key: str | None = None,
        strict: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.default = default or reply("done")
        # When set, requests must carry it (Bearer or x-api-key) or get a 401.
        self.api_key = api_key
        # Refuse requests the real APIs would refuse (unmatched tool results and so on).
        self.strict = strict
        self._queues: dict[tuple[str | None, str | None], _Queue] = {}
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _Server((host, port), _Handler)
        self._httpd.fake = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    def start(self) -> FakeProviders:
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a delay
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeProviders:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def script(self, *steps: Step, provider: str | None = None, model: str | None = None) -> None:
        """Queue steps, answered in order by requests that match provider and model."""
        with self._lock:
            self._queues.setdefault((provider, model), _Queue()).steps.extend(steps)

    def set_default(
        self, step: Step, *, provider: str | None = None, model: str | None = None
    ) -> None:
        """What matching requests get once their queue is empty ("always fail" and so on)."""
        with self._lock:
            if provider is None and model is None:
                self.default = step
            else:
                self._queues.setdefault((provider, model), _Queue()).default = step

    def load_script(self, script: Mapping[str, Any]) -> None:
        if "default" in script:
            self.set_default(Step.from_json(script["default"]))
        for queue in script.get("queues", []):
            provider, model = queue.get("provider"), queue.get("model")
            steps = [
                Step.from_json(step)
                for step in queue.get("steps", [])
                for _ in range(step.get("times", 1))
            ]
            self.script(*steps, provider=provider, model=model)
            if "default" in queue:
                self.set_default(Step.from_json(queue["default"]), provider=provider, model=model)

    def requests(
        self, provider: str | None = None, model: str | None = None
    ) -> list[RecordedRequest]:
        with self._lock:
            return [
                request
                for request in self._requests
                if provider in (None, request.provider) and model in (None, request.model)
            ]

    def count(self, provider: str | None = None, model: str | None = None) -> int:
        return len(self.requests(provider, model))

    def reset(self) -> None:
        """Forget queues and recorded requests; the server-wide default stays."""
        with self._lock:
            self._queues.clear()
            self._requests.clear()

    def _record(self, request: RecordedRequest) -> int:
        with self._lock:
            self._requests.append(request)
            return len(self._requests)

    def _next_step(self, provider: str, model: str | None) -> Step:
        with self._lock:
            for key in ((provider, model), (None, model), (provider, None), (None, None)):
                queue = self._queues.get(key)
                if queue is None:
                    continue
                if queue.steps:
                    return queue.steps.popleft()
                if queue.default is not None:
                    return queue.default
            return self.default

    def _wait(self, seconds: float) -> bool:
        """Sleep for a scripted delay; False when the server is stopping meanwhile."""
        return not self._stopping.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeProviders


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes; no 40 ms stall
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read the recorded requests, not stderr noise

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/_fake/requests":
            self._send(200, json.dumps([r.to_json() for r in self.server.fake.requests()]))
        else:
            self._send(404, json.dumps({"error": {"message": f"no route {self.path}"}}))

    def do_POST(self) -> None:
        fake = self.server.fake
        path = self.path.split("?")[0]
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if path == "/_fake/script":
            fake.load_script(body or {})
            return self._send(200, "{}")
        if path == "/_fake/reset":
            fake.reset()
            return self._send(200, "{}")
        provider = PROVIDER_PATHS.get(path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        sequence = fake._record(
            RecordedRequest(provider or "unknown", path, body, headers, datetime.now(UTC))
        )
        if provider is None:
            return self._send(404, json.dumps({"error": {"message": f"no route {path}"}}))
        if fake.api_key is not None and fake.api_key not in (
            headers.get("x-api-key"),
            headers.get("authorization", "").removeprefix("Bearer "),
        ):
            return self._answer_error(provider, fault(401, "invalid api key"))
        problem = validate_request(provider, body, headers) if fake.strict else None
        if problem:
            return self._answer_error(provider, fault(400, problem, code="invalid_request_error"))
        model = body.get("model") if isinstance(body, dict) else None
        step = fake._next_step(provider, model)
        if step.delay_s and not fake._wait(step.delay_s):
            return None
        if step.status >= 400:
            return self._answer_error(provider, step)
        if step.body is not None:
            return self._send(step.status, step.body, step.retry_after)
        return self._send(200, json.dumps(render_reply(provider, step, model or "fake", sequence)))

    def _answer_error(self, provider: str, step: Step) -> None:
        text = step.body if step.body is not None else json.dumps(render_error(provider, step))
        self._send(step.status, text, step.retry_after)

    def _send(self, status: int, text: str, retry_after: str | None = None) -> None:
        data = text.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing left to tell it


# Wire formats: what each provider sends back, and what it refuses.

_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


# ``Step.stop`` in each provider's words.
_STOP_WORDS = {
    "openai": {"length": "length", "content_filter": "content_filter"},
    "anthropic": {"length": "max_tokens", "content_filter": "refusal"},
}


def render_reply(provider: str, step: Step, model: str, sequence: int) -> dict[str, Any]:
    stop = None if step.stop is None else _STOP_WORDS[provider].get(step.stop, step.stop)
    if provider == "anthropic":
        content: list[dict[str, Any]] = [{"type": "text", "text": step.text}] if step.text else []
        for index, call in enumerate(step.tool_calls):
            arguments = call.arguments
            if isinstance(arguments, str):
                # Unparseable text models a broken server: the raw string goes out as input.
                with contextlib.suppress(ValueError):
                    arguments = json.loads(arguments)
            call_id = call.id or f"toolu_{sequence}_{index}"
            content.append(
                {"type": "tool_use", "id": call_id, "name": call.name, "input": arguments}
            )
        return {
            "id": f"msg_fake_{sequence}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop or ("tool_use" if step.tool_calls else "end_turn"),
            "stop_sequence": None,
            "usage": {"input_tokens": step.input_tokens, "output_tokens": step.output_tokens},
        }
    calls = [
        {
            "id": call.id or f"call_{sequence}_{index}",
            "type": "function",
            "function": {
                "name": call.name,
                "arguments": call.arguments
                if isinstance(call.arguments, str)
                else json.dumps(call.arguments),
            },
        }
        for index, call in enumerate(step.tool_calls)
    ]
    message: dict[str, Any] = {"role": "assistant", "content": step.text or (None if calls else "")}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": f"chatcmpl-fake-{sequence}",
        "object": "chat.completion",
        "created": int(datetime.now(UTC).timestamp()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": stop or ("tool_calls" if calls else "stop"),
            }
        ],
        "usage": {
            "prompt_tokens": step.input_tokens,
            "completion_tokens": step.output_tokens,
            "total_tokens": step.input_tokens + step.output_tokens,
        },
    }


def render_error(provider: str, step: Step) -> dict[str, Any]:
    message = step.error_message or f"fake {provider} error {step.status}"
    if provider == "anthropic":
        kind = step.error_code or _ANTHROPIC_ERROR_TYPES.get(step.status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}
    kind = {429: "rate_limit_error"}.get(step.status, "invalid_request_error")
    kind = "server_error" if step.status >= 500 else kind
    return {"error": {"message": message, "type": kind, "param": None, "code": step.error_code}}


def validate_request(provider: str, body: Any, headers: Mapping[str, str]) -> str | None:
    """The reason the real API would refuse this request, or None."""
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return "the body must be a JSON object with a model"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: a non-empty list is required"
    if provider == "anthropic":
        return _anthropic_problem(body, messages, headers)
    return _openai_problem(messages)


def _openai_problem(messages: list[Any]) -> str | None:
    open_calls: set[str] = set()
    for index, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            if message.get("tool_call_id") not in open_calls:
                return f"messages[{index}]: tool message does not answer a preceding tool call"
            open_calls.discard(message["tool_call_id"])
            continue
        if open_calls:
            return f"messages[{index}]: tool calls {sorted(open_calls)} have no tool message"
        if role == "assistant":
            for call in message.get("tool_calls") or []:
                if not isinstance(call["function"]["arguments"], str):
                    return f"messages[{index}]: function.arguments must be a string"
                open_calls.add(call["id"])
        elif role not in ("system", "user", "developer"):
            return f"messages[{index}]: unknown role {role!r}"
    return None


def _anthropic_problem(
    body: dict[str, Any], messages: list[Any], headers: Mapping[str, str]
) -> str | None:
    if "anthropic-version" not in headers:
        return "anthropic-version: header is required"
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    previous_role: str | None = None
    open_ids: set[str] = set()
    for index, message in enumerate(messages):
        role, content = message.get("role"), message.get("content")
        if role not in ("user", "assistant"):
            return f"messages[{index}].role: {role!r} is not user or assistant"
        if role == previous_role:
            return f"messages[{index}]: roles must alternate between user and assistant"
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not blocks:
            return f"messages[{index}]: content must be non-empty"
        kinds = [block.get("type") for block in blocks]
        results = {
            block.get("tool_use_id") for block in blocks if block.get("type") == "tool_result"
        }
        if results != open_ids:
            return f"messages[{index}]: tool_result ids {sorted(map(str, results))} do not match tool_use ids {sorted(open_ids)}"
        if kinds[: len(results)] != ["tool_result"] * len(results):
            return f"messages[{index}]: tool_result blocks must come first"
        for block in blocks:
            if block.get("type") == "text" and not block.get("text"):
                return f"messages[{index}]: text content blocks must be non-empty"
            if block.get("type") == "tool_use" and not isinstance(block.get("input"), dict):
                return f"messages[{index}]: tool_use.input must be an object"
        open_ids = {block["id"] for block in blocks if block.get("type") == "tool_use"}
        previous_role = role
    return None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Serve fake OpenAI and Anthropic APIs on loopback.",
        epilog="example: python -m tests.support.fake_providers --port 8089 --script s.json",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--script", type=Path, help="a JSON script (see the module docstring)")
    parser.add_argument("--api-key", help="require this key on every request")
    args = parser.parse_args(argv)
    fake = FakeProviders(api_key=args.api_key, host=args.host, port=args.port)
    if args.script is not None:
        fake.load_script(json.loads(args.script.read_text()))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with fake:
        print(f"FAKE_PROVIDERS_URL={fake.url}", flush=True)
        while not stop.wait(0.2):
            pass


if __name__ == "__main__":
    main()
