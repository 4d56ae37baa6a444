"""Model references (``provider:model``) and the retry settings that travel with them.

A reference names a model, never a credential or an endpoint: base URLs and keys live
only in the worker's environment, so nothing secret reaches workflow history.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from taskcraft.errors import InvalidModelRefError

PROVIDERS = ("openai", "anthropic", "offline")


class ModelRetry(BaseModel):
    """How Temporal retries one model reference before the route fails over.

    Defaults fit hosted providers: a few quick retries for blips, then a minute-scale
    ceiling; 10 minutes start-to-close leaves room for long generations.
    """

    initial_interval_s: float = Field(default=2.0, gt=0)
    backoff_coefficient: float = Field(default=2.0, ge=1)
    maximum_interval_s: float = Field(default=60.0, gt=0)
    maximum_attempts: int = Field(default=4, ge=1)
    start_to_close_s: float = Field(default=600.0, gt=0)
    # Longest Retry-After we honour; a larger one is capped to this.
    max_retry_after_s: float = Field(default=120.0, gt=0)


class ModelRef(BaseModel):
    ref: str
    retry: ModelRetry = Field(default_factory=ModelRetry)

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
