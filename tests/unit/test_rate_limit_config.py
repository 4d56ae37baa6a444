"""Model configuration read from the environment: per-provider rate limits, retry settings
written into model references, and the deadline a model call gets inside its activity."""

from __future__ import annotations

import pytest

from activities.models.settings import ProviderSettings
from infra.settings import Settings, parse_rate_limits
from taskcraft.agents import AgentSpec, StepRoute
from taskcraft.errors import ConfigError, InvalidModelRefError
from taskcraft.model_ref import ModelRef, ModelRetry


def test_rate_limits_parse_per_provider() -> None:
    env = {
        "TASKCRAFT_RATE_LIMIT_OPENAI": "5",
        "TASKCRAFT_RATE_LIMIT_ANTHROPIC": " 0.5 ",
        "TASKCRAFT_MODEL": "openai:gpt-4o-mini",
    }
    assert parse_rate_limits(env) == {"openai": 5.0, "anthropic": 0.5}


def test_unset_or_empty_rate_limit_means_no_dedicated_queue() -> None:
    settings = Settings.from_env({"TASKCRAFT_RATE_LIMIT_OPENAI": "", "TASKCRAFT_TASK_QUEUE": "q"})
    assert settings.model_rate_limits == {}
    assert settings.model_task_queues == {}


def test_rate_limited_provider_gets_a_queue_named_after_the_task_queue() -> None:
    settings = Settings.from_env(
        {"TASKCRAFT_TASK_QUEUE": "prod", "TASKCRAFT_RATE_LIMIT_ANTHROPIC": "2"}
    )
    assert settings.model_rate_limits == {"anthropic": 2.0}
    assert settings.model_task_queues == {"anthropic": "prod-model-anthropic"}


@pytest.mark.parametrize("raw", ["fast", "0", "-1", "inf", "nan", "5/s"])
def test_bad_rate_limit_is_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"TASKCRAFT_RATE_LIMIT_OPENAI": raw})
    assert str(caught.value) == (
        "TASKCRAFT_RATE_LIMIT_OPENAI must be a positive number of model calls per second "
        f"(e.g. 5 or 0.5), not {raw!r}; leave it unset for no limit"
    )


@pytest.mark.parametrize("name", ["TASKCRAFT_RATE_LIMIT_OPENIA", "TASKCRAFT_RATE_LIMIT_OFFLINE"])
def test_rate_limit_for_an_unknown_provider_is_refused_not_ignored(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_rate_limits({name: "5"})
    assert str(caught.value) == (
        f"{name} names no provider with model calls; expected "
        "TASKCRAFT_RATE_LIMIT_OPENAI, TASKCRAFT_RATE_LIMIT_ANTHROPIC"
    )


def test_taskcraft_model_carries_retry_settings_per_reference() -> None:
    settings = Settings.from_env(
        {
            "TASKCRAFT_MODEL": "openai:gpt-4o?maximum_attempts=2&start_to_close_s=300,"
            "anthropic:claude-3-5-haiku-latest"
        }
    )
    primary, backup = settings.model_route()
    assert primary.ref == "openai:gpt-4o"
    assert primary.retry == ModelRetry(maximum_attempts=2, start_to_close_s=300)
    assert backup.ref == "anthropic:claude-3-5-haiku-latest"
    assert backup.retry == ModelRetry()


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (
            "openai:gpt-4o?max_attempts=2",
            "TASKCRAFT_MODEL: model reference 'openai:gpt-4o?max_attempts=2' sets unknown retry "
            "setting 'max_attempts'; expected one of initial_interval_s, backoff_coefficient, "
            "maximum_interval_s, maximum_attempts, start_to_close_s, max_retry_after_s, "
            "heartbeat_timeout_s",
        ),
        (
            "openai:gpt-4o?maximum_attempts=0",
            "TASKCRAFT_MODEL: model reference 'openai:gpt-4o?maximum_attempts=0': "
            "maximum_attempts: Input should be greater than or equal to 1",
        ),
        (
            "openai:gpt-4o?start_to_close_s=inf",
            "TASKCRAFT_MODEL: model reference 'openai:gpt-4o?start_to_close_s=inf': "
            "start_to_close_s: Input should be a finite number",
        ),
        (
            "openai:gpt-4o?retries",
            "TASKCRAFT_MODEL: model reference 'openai:gpt-4o?retries': retry settings after "
            "'?' must look like key=value&key=value with keys from initial_interval_s, "
            "backoff_coefficient, maximum_interval_s, maximum_attempts, start_to_close_s, "
            "max_retry_after_s, heartbeat_timeout_s",
        ),
    ],
)
def test_bad_retry_settings_in_taskcraft_model_are_refused(route: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"TASKCRAFT_MODEL": route})
    assert str(caught.value) == message


def test_agent_definitions_set_retry_in_python_or_as_text() -> None:
    """ModelRef(retry=ModelRetry(...)) and 'ref?key=value' are the same route."""
    spec = AgentSpec(
        name="a",
        instructions="x",
        model_route=[ModelRef(ref="openai:gpt-4o", retry=ModelRetry(maximum_attempts=6))],
        step_routes=[
            StepRoute(
                from_step=3,
                route=[ModelRef(ref="anthropic:claude", retry=ModelRetry(initial_interval_s=0.5))],
            )
        ],
    )
    from_text = AgentSpec.model_validate(
        {
            "name": "a",
            "instructions": "x",
            "model_route": ["openai:gpt-4o?maximum_attempts=6"],
            "step_routes": [{"from_step": 3, "route": ["anthropic:claude?initial_interval_s=0.5"]}],
        }
    )
    assert spec == from_text
    assert spec.route_for_step(3)[0].retry.initial_interval_s == 0.5
    assert spec.model_route[0].retry.maximum_attempts == 6


def test_text_settings_override_an_explicit_retry() -> None:
    ref = ModelRef(ref="openai:m?maximum_attempts=2", retry=ModelRetry(initial_interval_s=0.1))
    assert ref.retry == ModelRetry(initial_interval_s=0.1, maximum_attempts=2)


def test_model_names_with_colons_keep_working() -> None:
    ref = ModelRef(ref="openai:llama3.1:8b?maximum_attempts=1")
    assert (ref.provider, ref.model, ref.retry.maximum_attempts) == ("openai", "llama3.1:8b", 1)


def test_bad_text_in_an_agent_route_is_an_invalid_model_ref() -> None:
    with pytest.raises(InvalidModelRefError, match="sets 'maximum_attempts' twice"):
        ModelRef(ref="openai:m?maximum_attempts=1&maximum_attempts=2")


@pytest.mark.parametrize(
    ("configured", "start_to_close", "deadline"),
    [
        (600.0, 600.0, 590.0),  # the defaults: the read timeout ends before Temporal's
        (600.0, 20.0, 16.0),  # a short start-to-close keeps a fifth in hand
        (30.0, 600.0, 30.0),  # a shorter configured timeout wins
        (600.0, None, 600.0),  # no start-to-close: the configured timeout alone
    ],
)
def test_model_call_deadline_stays_inside_start_to_close(
    configured: float, start_to_close: float | None, deadline: float
) -> None:
    settings = ProviderSettings(model_timeout_s=configured)
    assert settings.call_deadline_s(start_to_close) == pytest.approx(deadline)
    assert settings.http_timeout(settings.call_deadline_s(start_to_close)).read == pytest.approx(
        deadline
    )
