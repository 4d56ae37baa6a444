"""Process settings for the worker and the CLI, read once from the environment.

Nothing reads ``os.environ`` at import time: ``Settings.from_env`` is called by
``worker.py`` and ``starter.py`` (and by tests with an environment of their own).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from taskcraft.budgets import ModelPrice
from taskcraft.errors import ConfigError, InvalidModelRefError
from taskcraft.model_ref import ModelRef

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TASK_QUEUE = "taskcraft"
OFFLINE_DEFAULT_MODEL = "offline:analyst"
# TASKCRAFT_RATE_LIMIT_OPENAI=5: at most 5 openai model calls per second, across workers.
RATE_LIMIT_PREFIX = "TASKCRAFT_RATE_LIMIT_"
RATE_LIMITED_PROVIDERS = ("openai", "anthropic")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, not {raw!r}")
    return value


def parse_rate_limits(env: Mapping[str, str]) -> dict[str, float]:
    """Model calls per second for each provider that has a ``TASKCRAFT_RATE_LIMIT_*``.

    Empty counts as unset. A name for a provider we do not know is refused rather than
    ignored, because a typo would otherwise silently leave a provider unthrottled.
    """
    limits: dict[str, float] = {}
    for name in sorted(env):
        if not name.startswith(RATE_LIMIT_PREFIX):
            continue
        raw = env[name].strip()
        provider = name.removeprefix(RATE_LIMIT_PREFIX).lower()
        if provider not in RATE_LIMITED_PROVIDERS:
            expected = ", ".join(RATE_LIMIT_PREFIX + p.upper() for p in RATE_LIMITED_PROVIDERS)
            raise ConfigError(f"{name} names no provider with model calls; expected {expected}")
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            raise ConfigError(
                f"{name} must be a positive number of model calls per second "
                f"(e.g. 5 or 0.5), not {raw!r}; leave it unset for no limit"
            )
        limits[provider] = value
    return limits


TOOL_QUEUES_ENV = "TASKCRAFT_TOOL_QUEUES"
AGENTS_ENV = "TASKCRAFT_AGENTS"


def parse_tool_queues(env: Mapping[str, str]) -> dict[str, str]:
    """``TASKCRAFT_TOOL_QUEUES=run_shell=build-box,query_sql=db-host``: tool → task queue.

    A tool listed here runs only on workers polling that queue (started on the machine
    where its resource lives with ``TASKCRAFT_TASK_QUEUE=build-box``).
    """
    queues: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in env.get(TOOL_QUEUES_ENV, "").split(","))):
        tool, _, queue = (text.strip() for text in pair.partition("="))
        if not tool or not queue:
            raise ConfigError(
                f"{TOOL_QUEUES_ENV} takes tool=queue pairs separated by commas "
                f"(e.g. run_shell=build-box), not {pair!r}"
            )
        queues[tool] = queue
    return queues


def model_task_queue(task_queue: str, provider: str) -> str:
    """The queue that serves one provider's model calls when that provider is rate limited."""
    return f"{task_queue}-model-{provider}"


@dataclass(frozen=True)
class Settings:
    task_queue: str = DEFAULT_TASK_QUEUE
    data_dir: Path = PROJECT_ROOT / ".taskcraft"
    workspace: Path = PROJECT_ROOT / "sample_data" / "workspace"
    policy_dirs: tuple[Path, ...] = ()
    # The route agents use when they name none; offline when nothing is configured.
    default_route: tuple[str, ...] = (OFFLINE_DEFAULT_MODEL,)
    default_route_is_fallback: bool = True
    ui_url: str = "http://localhost:8233"
    max_concurrent_activities: int = 500
    max_concurrent_workflow_tasks: int = 200
    max_cached_workflows: int = 1000
    payload_store_threshold: int = 256 * 1024
    metrics_port: int = 0  # 0: no metrics endpoint
    # Folders of agent files (TASKCRAFT_AGENTS), read before the shipped examples.
    agent_dirs: tuple[Path, ...] = ()
    shipped_agents: bool = True
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "store"

    def model_route(self) -> list[ModelRef]:
        return [ModelRef(ref=ref) for ref in self.default_route]

    @property
    def prices(self) -> dict[str, ModelPrice]:
        """The price table for cost budgets (TASKCRAFT_PRICES_FILE, else the shipped one)."""
        from infra.prices import prices_from_env

        return prices_from_env(self.env)

    @property
    def model_rate_limits(self) -> dict[str, float]:
        """Per-provider model calls per second, from ``env`` (checked in ``from_env``)."""
        return parse_rate_limits(self.env)

    @property
    def tool_task_queues(self) -> dict[str, str]:
        """Tool → the task queue its calls go to (checked in ``from_env``)."""
        return parse_tool_queues(self.env)

    @property
    def model_task_queues(self) -> dict[str, str]:
        """Provider → the dedicated queue its model calls go to; only rate-limited ones."""
        return {p: model_task_queue(self.task_queue, p) for p in self.model_rate_limits}

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        data_dir = Path(env.get("TASKCRAFT_DATA_DIR") or PROJECT_ROOT / ".taskcraft")
        route_raw = env.get("TASKCRAFT_MODEL", "").strip()
        route = tuple(part.strip() for part in route_raw.split(",") if part.strip())
        try:
            for ref in route:
                ModelRef(ref=ref)  # also checks retry settings written after '?'
        except InvalidModelRefError as exc:
            raise ConfigError(f"TASKCRAFT_MODEL: {exc}") from None
        parse_rate_limits(env)  # refuse a bad limit at start-up, not at the first task
        parse_tool_queues(env)
        from infra.prices import prices_from_env

        prices_from_env(env)  # likewise a bad price table
        policy_dirs = tuple(
            Path(part) for part in env.get("TASKCRAFT_POLICY_DIRS", "").split(":") if part
        )
        agent_dirs = tuple(
            Path(part) for part in env.get(AGENTS_ENV, "").split(":") if part.strip()
        )
        shipped = (env.get("TASKCRAFT_SHIPPED_AGENTS") or "1").strip().lower()
        if shipped not in ("1", "0", "true", "false", "yes", "no"):
            raise ConfigError(f"TASKCRAFT_SHIPPED_AGENTS must be 1 or 0, not {shipped!r}")
        return cls(
            task_queue=env.get("TASKCRAFT_TASK_QUEUE") or DEFAULT_TASK_QUEUE,
            data_dir=data_dir,
            workspace=Path(
                env.get("TASKCRAFT_WORKSPACE") or PROJECT_ROOT / "sample_data" / "workspace"
            ),
            policy_dirs=policy_dirs,
            default_route=route or (OFFLINE_DEFAULT_MODEL,),
            default_route_is_fallback=not route,
            ui_url=(env.get("TASKCRAFT_UI_URL") or "http://localhost:8233").rstrip("/"),
            max_concurrent_activities=_int(env, "TASKCRAFT_MAX_CONCURRENT_ACTIVITIES", 500),
            max_concurrent_workflow_tasks=_int(env, "TASKCRAFT_MAX_CONCURRENT_WORKFLOW_TASKS", 200),
            max_cached_workflows=_int(env, "TASKCRAFT_MAX_CACHED_WORKFLOWS", 1000),
            payload_store_threshold=_int(env, "TASKCRAFT_PAYLOAD_STORE_THRESHOLD", 256 * 1024),
            metrics_port=_int(env, "TASKCRAFT_METRICS_PORT", 0),
            agent_dirs=agent_dirs,
            shipped_agents=shipped in ("1", "true", "yes"),
            env=dict(env),
        )
