"""How one HTTP exchange with a model provider becomes a JSON body or a classified failure.

Both adapters send through ``post_json`` so every provider failure reaches the workflow
as the same ``ApplicationError`` types, with the same retry semantics:

    429                         ModelRateLimited      retryable (Retry-After honoured, capped)
    429 insufficient_quota      ModelRateLimited      non-retryable: waiting will not refill it
    408, httpx timeouts         ModelTimeout          retryable
    5xx, 529, connection errors ModelUnavailable      retryable (Retry-After honoured on 503/529)
    200 that does not parse     ModelMalformedResponse retryable
    401, 402, 403               ModelAuthFailed       non-retryable
    404                         ModelNotFound         non-retryable
    context-length refusals     ModelContextLength    non-retryable
    other 4xx                   ModelBadRequest       non-retryable

Messages quote the provider's own explanation, because "HTTP 400" alone tells an operator
nothing, but never the API key: a provider that echoes it back gets it redacted. Auth and
not-found failures, which only an operator can fix, also carry ``ModelFailureDetails``
("answered 401 Unauthorized"); the model activity adds which setting to fix.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from temporalio.exceptions import ApplicationError

from taskcraft.calls import ModelFailureDetails
from taskcraft.errors import ErrorType

MAX_PROVIDER_MESSAGE_CHARS = 500
DEFAULT_MAX_RETRY_AFTER_S = 120.0
# Keys shorter than this are test placeholders; redacting them would mangle the message.
_MIN_REDACTABLE_SECRET = 8

_CONTEXT_LENGTH_MARKERS = (
    "context length",
    "context_length",
    "maximum context",
    "context window",
    "context size",
    "exceed_context_size",
    "too many tokens",
    "prompt is too long",
)
_RETRY_AFTER_STATUSES = frozenset({429, 503, 529})
# Failures an operator must fix on the workers: they carry what the provider answered.
_OPERATOR_FIXES = frozenset({ErrorType.MODEL_AUTH, ErrorType.MODEL_NOT_FOUND})


def parse_retry_after(
    value: str | None, *, cap_s: float, now: datetime | None = None
) -> timedelta | None:
    """Turn a Retry-After header (seconds or an HTTP date) into a capped delay.

    ``None`` means "no usable hint": Temporal then falls back to the retry policy, which
    is also the right answer for a date already in the past.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return timedelta(seconds=min(seconds, cap_s))


def provider_error_details(response: httpx.Response) -> tuple[str, str | None]:
    """The provider's explanation and machine code, from whichever error shape it uses.

    OpenAI and llama.cpp nest ``{"error": {"message", "code", "type"}}``, Anthropic adds a
    top-level ``"type": "error"``, and gateways use ``{"error": "..."}``, ``{"message"}``
    or FastAPI's ``{"detail"}``; anything else falls back to the raw text.
    """
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    message: str | None = None
    code: str | None = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = _as_text(error.get("message"))
            code = _as_text(error.get("code")) or _as_text(error.get("type"))
        elif isinstance(error, str):
            message = error
        message = message or _as_text(body.get("message")) or _as_text(body.get("detail"))
    if not message:
        message = response.text.strip() or response.reason_phrase or "no explanation given"
    return message, code


def classify_response(
    response: httpx.Response, *, provider: str, max_retry_after_s: float, secret: str | None
) -> ApplicationError:
    """The failure for a non-2xx answer; the caller raises it."""
    status = response.status_code
    message, code = provider_error_details(response)
    detail = _clean(message, secret)
    lowered = f"{message} {code or ''}".lower()

    def failure(kind: ErrorType, label: str, *, retryable: bool) -> ApplicationError:
        delay = None
        if retryable and status in _RETRY_AFTER_STATUSES:
            delay = parse_retry_after(response.headers.get("retry-after"), cap_s=max_retry_after_s)
        details = []
        if kind in _OPERATOR_FIXES:
            answered = f"answered {status} {httpx.codes.get_reason_phrase(status)}".rstrip()
            details.append(ModelFailureDetails(answer=answered).model_dump())
        return ApplicationError(
            f"{provider} answered HTTP {status} ({label}): {detail}",
            *details,
            type=kind,
            non_retryable=not retryable,
            next_retry_delay=delay,
        )

    if status == 429:
        if "insufficient_quota" in lowered:
            return failure(ErrorType.MODEL_RATE_LIMITED, "quota exhausted", retryable=False)
        return failure(ErrorType.MODEL_RATE_LIMITED, "rate limited", retryable=True)
    if status == 408:
        return failure(ErrorType.MODEL_TIMEOUT, "request timeout", retryable=True)
    if status >= 500:
        return failure(ErrorType.MODEL_UNAVAILABLE, "unavailable", retryable=True)
    if status in (401, 402, 403):
        return failure(ErrorType.MODEL_AUTH, "authentication or billing", retryable=False)
    if status == 404:
        return failure(ErrorType.MODEL_NOT_FOUND, "model or endpoint not found", retryable=False)
    if 400 <= status < 500:
        if any(marker in lowered for marker in _CONTEXT_LENGTH_MARKERS):
            return failure(ErrorType.MODEL_CONTEXT_LENGTH, "context too long", retryable=False)
        return failure(ErrorType.MODEL_BAD_REQUEST, "bad request", retryable=False)
    # 1xx/3xx: a proxy or a redirecting base URL; worth a retry, then the route fails over.
    return failure(ErrorType.MODEL_UNAVAILABLE, "unexpected status", retryable=True)


def classify_transport_error(exc: httpx.TransportError, *, provider: str) -> ApplicationError:
    """The failure for a request that never got an answer."""
    where = _safe_url(exc)
    if isinstance(exc, httpx.TimeoutException):
        return ApplicationError(
            f"{provider} did not answer in time at {where} ({type(exc).__name__})",
            type=ErrorType.MODEL_TIMEOUT,
        )
    if isinstance(exc, httpx.UnsupportedProtocol):
        return ApplicationError(
            f"{provider} base URL {where} is not an http(s) URL; fix the worker's settings",
            type=ErrorType.MODEL_NOT_CONFIGURED,
            non_retryable=True,
        )
    return ApplicationError(
        f"{provider} could not be reached at {where}: {type(exc).__name__}: {exc}",
        type=ErrorType.MODEL_UNAVAILABLE,
    )


def malformed(provider: str, detail: str) -> ApplicationError:
    """A 200 we cannot use: often a proxy's error page or a half-loaded local model."""
    return ApplicationError(
        f"{provider} sent an unusable answer: {_truncate(detail)}",
        type=ErrorType.MODEL_MALFORMED_RESPONSE,
    )


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    provider: str,
    headers: dict[str, str],
    body: dict[str, Any],
    secret: str | None,
    max_retry_after_s: float,
    http_timeout: httpx.Timeout | None = None,
) -> dict[str, Any]:
    """POST one request and return the JSON object answered, or raise the classified failure."""
    try:
        response = await client.post(
            url,
            json=body,
            headers=headers,
            timeout=httpx.USE_CLIENT_DEFAULT if http_timeout is None else http_timeout,
        )
    except httpx.TransportError as exc:
        raise classify_transport_error(exc, provider=provider) from exc
    if not response.is_success:
        raise classify_response(
            response, provider=provider, max_retry_after_s=max_retry_after_s, secret=secret
        )
    try:
        answer: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise malformed(provider, f"body is not JSON: {response.text!r}") from None
    if not isinstance(answer, dict):
        raise malformed(provider, f"body is not a JSON object: {response.text!r}")
    return answer


def _as_text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _clean(message: str, secret: str | None) -> str:
    if secret and len(secret) >= _MIN_REDACTABLE_SECRET:
        message = message.replace(secret, "[redacted]")
    return _truncate(message)


def _truncate(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= MAX_PROVIDER_MESSAGE_CHARS:
        return text
    return text[: MAX_PROVIDER_MESSAGE_CHARS - 1] + "…"


def _safe_url(exc: httpx.TransportError) -> str:
    """The request's URL without userinfo or query, where credentials sometimes hide."""
    try:
        url = exc.request.url
    except RuntimeError:
        return "the configured base URL"
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}{url.path}"
