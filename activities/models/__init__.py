"""Model adapters: OpenAI-compatible, Anthropic, and the offline model."""

from activities.models.anthropic import AnthropicAdapter
from activities.models.base import Completion, ModelAdapter
from activities.models.offline import OfflineModel
from activities.models.openai_compat import OpenAICompatAdapter
from activities.models.settings import ProviderSettings, build_adapter

__all__ = [
    "AnthropicAdapter",
    "Completion",
    "ModelAdapter",
    "OfflineModel",
    "OpenAICompatAdapter",
    "ProviderSettings",
    "build_adapter",
]
