"""Model references (``provider:model``) and the retry settings that travel with them.

A reference names a model, never a credential or an endpoint: base URLs and keys live
only in the worker's environment, so nothing secret reaches workflow history.

Retry settings can be written after the reference, query-string style, wherever a
reference is text (``TASKCRAFT_MODEL``, ``taskcraft start --model``, an agent file)::

    openai:gpt-4o-mini?maximum_attempts=3&start_to_close_s=300

The keys are the field names of ``ModelRetry``; what is not given keeps its default.
In Python, ``ModelRef(ref="openai:gpt-4o-mini", retry=ModelRetry(maximum_attempts=3))``
says the same thing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from taskcraft.errors import InvalidModelRefError

PROVIDERS = ("openai", "anthropic", "offline")
RETRY_SEPARATOR = "?"


class ModelRetry(BaseModel):
    """How Temporal retries one model reference before the route fails over.

    Defaults fit hosted providers: a few quick retries for blips, then a minute-scale
    ceiling; 10 minutes start-to-close leaves room for long generations (the HTTP read
    timeout is kept below it, so a slow provider is a classified ``ModelTimeout``).
    """

    # An infinite interval or timeout would not fit in a Temporal duration.
    model_config = ConfigDict(allow_inf_nan=False)

    initial_interval_s: float = Field(default=2.0, gt=0)
    backoff_coefficient: float = Field(default=2.0, ge=1)
    maximum_interval_s: float = Field(default=60.0, gt=0)
    maximum_attempts: int = Field(default=4, ge=1)
    start_to_close_s: float = Field(default=600.0, gt=0)
    # Longest Retry-After we honour; a larger one is capped to this.
    max_retry_after_s: float = Field(default=120.0, gt=0)
    # A worker that dies mid-call is noticed this soon (it heartbeats three times as often).
    heartbeat_timeout_s: float = Field(default=10.0, gt=0)


class ModelRef(BaseModel):
    """One model in a route, and how hard to try it before moving to the next.

    Accepts a bare string too (``"openai:gpt-4o"``), with optional retry settings after
    a ``?`` (see the module docstring); ``ref`` itself always holds ``provider:model``.
    """

    ref: str
    retry: ModelRetry = Field(default_factory=ModelRetry)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            data = {"ref": data}
        if not isinstance(data, dict):
            return data
        text = data.get("ref")
        if not isinstance(text, str) or RETRY_SEPARATOR not in text:
            return data
        ref, _, query = text.partition(RETRY_SEPARATOR)
        retry = data.get("retry")
        base = retry.model_dump() if isinstance(retry, ModelRetry) else dict(retry or {})
        settings = {**base, **parse_retry_settings(text, query)}
        try:
            checked = ModelRetry.model_validate(settings)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
            )
            raise InvalidModelRefError(f"model reference {text!r}: {problems}") from None
        return {**data, "ref": ref, "retry": checked}

    @field_validator("ref")
    @classmethod
    def _check_ref(cls, value: str) -> str:
        parse_model_ref(value)
        return value

    @property
    def provider(self) -> str:
        return parse_model_ref(self.ref)[0]

    @property
    def model(self) -> str:
        return parse_model_ref(self.ref)[1]

    @property
    def is_offline(self) -> bool:
        return self.provider == "offline"


def parse_model_ref(ref: str) -> tuple[str, str]:
    """Split ``provider:model``; the model part may itself contain colons (Ollama tags)."""
    provider, sep, model = ref.partition(":")
    if not sep or not model:
        raise InvalidModelRefError(f"model reference {ref!r} must look like 'provider:model'")
    if provider not in PROVIDERS:
        raise InvalidModelRefError(
            f"model reference {ref!r} names unknown provider {provider!r}; "
            f"expected one of {', '.join(PROVIDERS)}"
        )
    return provider, model


def parse_retry_settings(text: str, query: str) -> dict[str, str]:
    """The ``key=value`` pairs after ``?``; values are checked by ``ModelRetry`` itself."""
    known = tuple(ModelRetry.model_fields)
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InvalidModelRefError(
            f"model reference {text!r}: retry settings after '?' must look like "
            f"key=value&key=value with keys from {', '.join(known)}"
        ) from None
    settings: dict[str, str] = {}
    for key, value in pairs:
        if key not in known:
            raise InvalidModelRefError(
                f"model reference {text!r} sets unknown retry setting {key!r}; "
                f"expected one of {', '.join(known)}"
            )
        if key in settings:
            raise InvalidModelRefError(f"model reference {text!r} sets {key!r} twice")
        settings[key] = value
    return settings
