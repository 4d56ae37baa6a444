"""Where each provider lives and which key it takes, read from the worker's environment.

Settings are read from a mapping the worker hands over (normally ``os.environ``) when it
builds its activities, never at import time, so tests can pass a dict and a worker picks
up a changed environment on restart. Keys stay here, out of workflow history: a model
reference names only ``provider:model``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
from temporalio.exceptions import ApplicationError

from activities.models.anthropic import AnthropicAdapter
from activities.models.base import ModelAdapter
from activities.models.http_errors import DEFAULT_MAX_RETRY_AFTER_S
from activities.models.openai_compat import OpenAICompatAdapter
from taskcraft.calls import ModelFailureDetails
from taskcraft.errors import ConfigError, ErrorType

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_ANTHROPIC_BASE_URL = "https://api.anthropic.com"
DEFAULT_MODEL_TIMEOUT_S = 600.0
# Connecting, sending and waiting for a pooled connection are quick or broken; only the
# read waits for the model to think, so only the read gets the long timeout.
CONNECT_TIMEOUT_S = 10.0
WRITE_TIMEOUT_S = 60.0
POOL_TIMEOUT_S = 60.0
# A model call must end (as a classified ModelTimeout) before Temporal's start-to-close
# timeout does, so the workflow sees why. Keep this much of the activity's time in hand.
DEADLINE_MARGIN_S = 10.0
DEADLINE_MARGIN_FRACTION = 0.2

HTTP_PROVIDERS = ("openai", "anthropic")
# The worker variables that hold each provider's key and endpoint.
KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
BASE_URL_VARIABLES = {"openai": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL"}


def operator_fix(provider: str, kind: str) -> str:
    """What an operator changes on the workers after ``kind`` (auth, not found, not
    configured) from ``provider``: the task's status line says it."""
    key = KEY_VARIABLES.get(provider, f"{provider.upper()}_API_KEY")
    base_url = BASE_URL_VARIABLES.get(provider, f"{provider.upper()}_BASE_URL")
    if kind == ErrorType.MODEL_NOT_FOUND:
        return f"check the model name in the route, and {base_url} on the workers"
    if kind == ErrorType.MODEL_NOT_CONFIGURED:
        local = f" (or {base_url} for a local server)" if provider == "openai" else ""
        return f"set {key}{local} on the workers"
    return f"fix {key} on the workers"


@dataclass(frozen=True)
class ProviderSettings:
    openai_base_url: str = DEFAULT_OPENAI_BASE_URL
    openai_api_key: str | None = field(default=None, repr=False)
    # True when OPENAI_BASE_URL was set: a local server (Ollama, vLLM) needs no key.
    openai_base_url_explicit: bool = False
    anthropic_base_url: str = DEFAULT_ANTHROPIC_BASE_URL
    anthropic_api_key: str | None = field(default=None, repr=False)
    model_timeout_s: float = DEFAULT_MODEL_TIMEOUT_S

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ProviderSettings:
        """Empty variables count as unset, as an ``export FOO=`` in a shell file means."""
        openai_base_url = _get(env, "OPENAI_BASE_URL")
        return cls(
            openai_base_url=openai_base_url or DEFAULT_OPENAI_BASE_URL,
            openai_api_key=_get(env, "OPENAI_API_KEY"),
            openai_base_url_explicit=openai_base_url is not None,
            anthropic_base_url=_get(env, "ANTHROPIC_BASE_URL") or DEFAULT_ANTHROPIC_BASE_URL,
            anthropic_api_key=_get(env, "ANTHROPIC_API_KEY"),
            model_timeout_s=_timeout(env, "TASKCRAFT_MODEL_TIMEOUT_S"),
        )

    def configured(self, provider: str) -> bool:
        if provider == "openai":
            return self.openai_api_key is not None or self.openai_base_url_explicit
        if provider == "anthropic":
            return self.anthropic_api_key is not None
        return False

    def call_deadline_s(self, start_to_close_s: float | None) -> float:
        """How long one model call may take: the configured timeout, kept inside the
        activity's start-to-close with a margin (10 s, or a fifth of a short timeout)."""
        if start_to_close_s is None:
            return self.model_timeout_s
        within = max(
            start_to_close_s - DEADLINE_MARGIN_S,
            start_to_close_s * (1 - DEADLINE_MARGIN_FRACTION),
        )
        return min(self.model_timeout_s, within)

    def http_timeout(self, read_s: float | None = None) -> httpx.Timeout:
        read = self.model_timeout_s if read_s is None else read_s
        return httpx.Timeout(
            connect=min(CONNECT_TIMEOUT_S, read),
            read=read,
            write=WRITE_TIMEOUT_S,
            pool=POOL_TIMEOUT_S,
        )


def build_adapter(
    provider: str,
    settings: ProviderSettings,
    client: httpx.AsyncClient,
    max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S,
    read_timeout_s: float | None = None,
) -> ModelAdapter:
    """The adapter for one provider, or a non-retryable failure naming what to set.

    ``read_timeout_s`` (default: ``TASKCRAFT_MODEL_TIMEOUT_S``) is how long to wait for
    the model's answer; the model activity passes its deadline here.

    The failure is ``ModelNotConfigured`` so a route that lists an unconfigured provider
    fails over to its next model instead of retrying something that cannot succeed.
    """
    if provider not in HTTP_PROVIDERS:
        raise ApplicationError(
            f"provider {provider!r} has no HTTP adapter; expected one of "
            f"{', '.join(HTTP_PROVIDERS)}",
            type=ErrorType.CONFIG,
            non_retryable=True,
        )
    if not settings.configured(provider):
        hint = (
            "set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server such as Ollama)"
            if provider == "openai"
            else "set ANTHROPIC_API_KEY"
        )
        raise ApplicationError(
            f"provider {provider!r} is not configured on this worker: {hint} in the "
            "worker's environment and restart it",
            ModelFailureDetails(
                answer="is not configured on the worker",
                fix=operator_fix(provider, ErrorType.MODEL_NOT_CONFIGURED),
            ).model_dump(),
            type=ErrorType.MODEL_NOT_CONFIGURED,
            non_retryable=True,
        )
    if provider == "openai":
        return OpenAICompatAdapter(
            client,
            settings.openai_base_url,
            settings.openai_api_key,
            max_retry_after_s=max_retry_after_s,
            timeout=settings.http_timeout(read_timeout_s),
        )
    return AnthropicAdapter(
        client,
        settings.anthropic_base_url,
        settings.anthropic_api_key,
        max_retry_after_s=max_retry_after_s,
        timeout=settings.http_timeout(read_timeout_s),
    )


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _timeout(env: Mapping[str, str], name: str) -> float:
    raw = _get(env, name)
    if raw is None:
        return DEFAULT_MODEL_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive number of seconds, not {raw!r}")
    return value
