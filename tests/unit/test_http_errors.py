"""Every provider failure becomes the right ApplicationError, for both adapters alike."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.models.anthropic import AnthropicAdapter
from activities.models.base import ModelAdapter
from activities.models.http_errors import parse_retry_after
from activities.models.openai_compat import OpenAICompatAdapter
from activities.models.settings import ProviderSettings, build_adapter, operator_fix
from taskcraft.calls import ModelFailureDetails
from taskcraft.errors import ConfigError, ErrorType
from taskcraft.messages import Message
from tests.support.fake_providers import FakeProviders, FakeToolCall, Step, empty, fault, reply
from tests.support.fake_providers import malformed as malformed_body

API_KEY = "sk-secret-0123456789abcdef"
PROVIDERS = ["openai", "anthropic"]


@pytest.fixture
def fake() -> Iterator[FakeProviders]:
    with FakeProviders() as server:
        yield server


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """One client per module: building its TLS context costs more than a test."""
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def make_adapter(
    provider: str,
    http: httpx.AsyncClient,
    base_url: str,
    *,
    max_retry_after_s: float = 120.0,
    timeout: httpx.Timeout | None = None,
) -> ModelAdapter:
    if provider == "openai":
        return OpenAICompatAdapter(
            http, base_url + "/v1", API_KEY, max_retry_after_s=max_retry_after_s, timeout=timeout
        )
    return AnthropicAdapter(
        http, base_url, API_KEY, max_retry_after_s=max_retry_after_s, timeout=timeout
    )


async def failure(adapter: ModelAdapter, model: str = "m") -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await adapter.complete(model, [Message.user("hi")], [])
    return caught.value


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("retry_after", "cap", "expected_s"),
    [("7", 120.0, 7.0), ("1.5", 120.0, 1.5), ("9999", 60.0, 60.0), (None, 120.0, None)],
)
async def test_rate_limit_is_retryable_with_capped_retry_after_seconds(
    fake: FakeProviders,
    http: httpx.AsyncClient,
    provider: str,
    retry_after: str | None,
    cap: float,
    expected_s: float | None,
) -> None:
    fake.script(fault(429, "Slow down, please.", retry_after=retry_after))

    error = await failure(make_adapter(provider, http, fake.url, max_retry_after_s=cap))

    assert error.type == ErrorType.MODEL_RATE_LIMITED
    assert not error.non_retryable
    assert "Slow down, please." in error.message
    expected = None if expected_s is None else timedelta(seconds=expected_s)
    assert error.next_retry_delay == expected


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_retry_after_as_http_date_becomes_a_delay(
    fake: FakeProviders, http: httpx.AsyncClient, provider: str
) -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    fake.script(fault(429, retry_after=soon))

    error = await failure(make_adapter(provider, http, fake.url))

    assert error.next_retry_delay is not None
    assert 27 <= error.next_retry_delay.total_seconds() <= 31


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_retry_after_http_date_is_capped(
    fake: FakeProviders, http: httpx.AsyncClient, provider: str
) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    fake.script(fault(503, retry_after=later))

    error = await failure(make_adapter(provider, http, fake.url, max_retry_after_s=90))

    assert error.type == ErrorType.MODEL_UNAVAILABLE
    assert error.next_retry_delay == timedelta(seconds=90)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("status", "body", "expected_type", "retryable", "quoted"),
    [
        (500, None, ErrorType.MODEL_UNAVAILABLE, True, "fake"),
        (503, None, ErrorType.MODEL_UNAVAILABLE, True, "fake"),
        (529, None, ErrorType.MODEL_UNAVAILABLE, True, "fake"),
        (502, "<html>Bad Gateway</html>", ErrorType.MODEL_UNAVAILABLE, True, "Bad Gateway"),
        (408, None, ErrorType.MODEL_TIMEOUT, True, "fake"),
        (401, None, ErrorType.MODEL_AUTH, False, "fake"),
        (403, None, ErrorType.MODEL_AUTH, False, "fake"),
        (404, None, ErrorType.MODEL_NOT_FOUND, False, "fake"),
        (400, None, ErrorType.MODEL_BAD_REQUEST, False, "fake"),
        (413, None, ErrorType.MODEL_BAD_REQUEST, False, "fake"),
        (422, '{"detail": "field required"}', ErrorType.MODEL_BAD_REQUEST, False, "field req"),
    ],
)
async def test_status_codes_are_classified(
    fake: FakeProviders,
    http: httpx.AsyncClient,
    provider: str,
    status: int,
    body: str | None,
    expected_type: ErrorType,
    retryable: bool,
    quoted: str,
) -> None:
    fake.script(fault(status, body=body, retry_after="5" if status == 401 else None))

    error = await failure(make_adapter(provider, http, fake.url))

    assert error.type == expected_type
    assert error.non_retryable is not retryable
    assert f"HTTP {status}" in error.message
    assert quoted in error.message
    assert error.next_retry_delay is None  # Retry-After counts only on 429/503/529


@pytest.mark.parametrize(
    ("provider", "message", "code"),
    [
        ("openai", "Input is too large for this model.", "context_length_exceeded"),
        ("openai", "This model's maximum context length is 8192 tokens.", None),
        ("openai", "the request exceeds the available context size", None),
        ("anthropic", "prompt is too long: 210000 tokens > 200000 maximum", None),
    ],
)
async def test_context_length_refusals_are_their_own_kind(
    fake: FakeProviders, http: httpx.AsyncClient, provider: str, message: str, code: str | None
) -> None:
    fake.script(fault(400, message, code=code))

    error = await failure(make_adapter(provider, http, fake.url))

    assert error.type == ErrorType.MODEL_CONTEXT_LENGTH
    assert error.non_retryable
    assert message in error.message


async def test_exhausted_quota_is_not_retried(fake: FakeProviders, http: httpx.AsyncClient) -> None:
    fake.script(fault(429, "You exceeded your current quota.", code="insufficient_quota"))

    error = await failure(make_adapter("openai", http, fake.url))

    assert error.type == ErrorType.MODEL_RATE_LIMITED
    assert error.non_retryable


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_api_key_is_redacted_and_long_messages_truncated(
    fake: FakeProviders, http: httpx.AsyncClient, provider: str
) -> None:
    fake.script(fault(401, f"Incorrect API key provided: {API_KEY}. " + "x" * 2000))

    error = await failure(make_adapter(provider, http, fake.url))

    assert API_KEY not in str(error)
    assert "[redacted]" in error.message
    assert len(error.message) < 600


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_slow_provider_times_out_as_retryable(
    fake: FakeProviders, http: httpx.AsyncClient, provider: str
) -> None:
    fake.script(reply("too late", delay_s=5))
    adapter = make_adapter(provider, http, fake.url, timeout=httpx.Timeout(0.3))

    started = time.monotonic()
    error = await failure(adapter)

    assert error.type == ErrorType.MODEL_TIMEOUT
    assert not error.non_retryable
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_refused_connection_is_unavailable(http: httpx.AsyncClient, provider: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the request: nothing listens

    error = await failure(make_adapter(provider, http, f"http://127.0.0.1:{port}"))

    assert error.type == ErrorType.MODEL_UNAVAILABLE
    assert not error.non_retryable
    assert f"127.0.0.1:{port}" in error.message


async def test_non_http_base_url_is_a_configuration_error(http: httpx.AsyncClient) -> None:
    error = await failure(OpenAICompatAdapter(http, "localhost:11434/v1", None))

    assert error.type == ErrorType.MODEL_NOT_CONFIGURED
    assert error.non_retryable


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("step", "detail"),
    [
        (malformed_body(), "not JSON"),
        (Step(body="[1, 2]"), "not a JSON object"),
        (Step(body='{"id": "x", "error": {"message": "upstream hiccup"}}'), "upstream hiccup"),
        (empty(), "empty answer"),
    ],
)
async def test_unusable_success_is_a_retryable_malformed_response(
    fake: FakeProviders, http: httpx.AsyncClient, provider: str, step: Step, detail: str
) -> None:
    fake.script(step)

    error = await failure(make_adapter(provider, http, fake.url))

    assert error.type == ErrorType.MODEL_MALFORMED_RESPONSE
    assert not error.non_retryable
    assert detail in error.message


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_broken_tool_call_arguments_pass_through_untouched(
    fake: FakeProviders, http: httpx.AsyncClient, provider: str
) -> None:
    """The workflow, not the adapter, turns bad arguments into an observation."""
    fake.script(reply(tool_calls=[FakeToolCall("read_file", '{"path": "a', id="call_x")]))

    completion = await make_adapter(provider, http, fake.url).complete("m", [Message.user("a")], [])

    [call] = completion.message.tool_calls
    assert (call.id, call.name, call.arguments) == ("call_x", "read_file", '{"path": "a')


def test_parse_retry_after_edge_cases() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:10 GMT", cap_s=60, now=now) == timedelta(
        seconds=10
    )
    assert parse_retry_after("Thu, 01 Jan 2026 11:59:00 GMT", cap_s=60, now=now) is None
    assert parse_retry_after("0", cap_s=60) is None
    assert parse_retry_after("-3", cap_s=60) is None
    assert parse_retry_after("nan", cap_s=60) is None
    assert parse_retry_after("soon", cap_s=60) is None
    assert parse_retry_after(" 12 ", cap_s=60) == timedelta(seconds=12)


async def test_unconfigured_provider_names_the_variable_to_set(http: httpx.AsyncClient) -> None:
    settings = ProviderSettings.from_env({"OPENAI_API_KEY": ""})

    for provider, variable in (("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY")):
        with pytest.raises(ApplicationError) as caught:
            build_adapter(provider, settings, http)
        assert caught.value.type == ErrorType.MODEL_NOT_CONFIGURED
        assert caught.value.non_retryable
        assert variable in caught.value.message


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (401, "answered 401 Unauthorized"),
        (403, "answered 403 Forbidden"),
        (402, "answered 402 Payment Required"),
        (404, "answered 404 Not Found"),
    ],
)
async def test_failures_only_an_operator_can_fix_say_what_the_provider_answered(
    fake: FakeProviders, http: httpx.AsyncClient, provider: str, status: int, answer: str
) -> None:
    """Auth and not-found failures carry the answer for the status line; the fix (which
    worker variable) is the model activity's to add, so it is empty here."""
    fake.script(fault(status, "nope"))

    error = await failure(make_adapter(provider, http, fake.url))

    assert [ModelFailureDetails.model_validate(d) for d in error.details] == [
        ModelFailureDetails(answer=answer)
    ]


@pytest.mark.parametrize("status", [400, 429, 500, 503])
async def test_other_failures_carry_no_operator_details(
    fake: FakeProviders, http: httpx.AsyncClient, status: int
) -> None:
    fake.script(fault(status, "nope"))

    error = await failure(make_adapter("openai", http, fake.url))

    assert error.details == ()


async def test_unconfigured_provider_says_what_to_set_in_its_details(
    http: httpx.AsyncClient,
) -> None:
    settings = ProviderSettings.from_env({})

    with pytest.raises(ApplicationError) as caught:
        build_adapter("anthropic", settings, http)

    [details] = caught.value.details
    assert ModelFailureDetails.model_validate(details) == ModelFailureDetails(
        answer="is not configured on the worker", fix="set ANTHROPIC_API_KEY on the workers"
    )


def test_operator_fixes_name_the_provider_variables() -> None:
    assert operator_fix("openai", ErrorType.MODEL_AUTH) == "fix OPENAI_API_KEY on the workers"
    assert operator_fix("anthropic", ErrorType.MODEL_AUTH) == (
        "fix ANTHROPIC_API_KEY on the workers"
    )
    assert operator_fix("openai", ErrorType.MODEL_NOT_FOUND) == (
        "check the model name in the route, and OPENAI_BASE_URL on the workers"
    )
    assert operator_fix("openai", ErrorType.MODEL_NOT_CONFIGURED) == (
        "set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server) on the workers"
    )


async def test_settings_from_env(http: httpx.AsyncClient) -> None:
    settings = ProviderSettings.from_env(
        {
            "OPENAI_BASE_URL": "http://localhost:11434/v1",
            "ANTHROPIC_API_KEY": API_KEY,
            "TASKCRAFT_MODEL_TIMEOUT_S": "45",
        }
    )

    assert settings.configured("openai")  # a local server needs no key
    assert settings.configured("anthropic")
    assert settings.anthropic_base_url == "https://api.anthropic.com"
    assert settings.http_timeout().read == 45.0
    assert API_KEY not in repr(settings)
    assert isinstance(build_adapter("anthropic", settings, http), AnthropicAdapter)
    assert isinstance(build_adapter("openai", settings, http), OpenAICompatAdapter)
    assert not ProviderSettings.from_env({}).configured("openai")
    assert ProviderSettings.from_env({}).openai_base_url == "https://api.openai.com/v1"
    with pytest.raises(ConfigError, match="TASKCRAFT_MODEL_TIMEOUT_S"):
        ProviderSettings.from_env({"TASKCRAFT_MODEL_TIMEOUT_S": "soon"})


async def test_model_routed_script_serves_each_model_independently(
    fake: FakeProviders, http: httpx.AsyncClient
) -> None:
    """The fail-over set-up end-to-end tests rely on: one model always fails, one answers."""
    fake.load_script(
        {
            "queues": [
                {"model": "primary", "default": {"status": 503}},
                {"provider": "anthropic", "model": "backup", "steps": [{"text": "from backup"}]},
            ]
        }
    )
    openai = make_adapter("openai", http, fake.url)
    anthropic = make_adapter("anthropic", http, fake.url)

    for _ in range(2):
        assert (await failure(openai, "primary")).type == ErrorType.MODEL_UNAVAILABLE
    answer = await anthropic.complete("backup", [Message.user("hi")], [])
    fallback = await anthropic.complete("backup", [Message.user("hi")], [])

    assert answer.message.content == "from backup"
    assert fallback.message.content == "done"
    assert (fake.count(model="primary"), fake.count("anthropic")) == (2, 2)
    served = json.loads((await http.get(fake.url + "/_fake/requests")).text)
    assert [r["model"] for r in served] == ["primary", "primary", "backup", "backup"]
