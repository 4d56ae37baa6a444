"""TASKCRAFT_TOOL_QUEUES: which task queue a tool's calls go to."""

from __future__ import annotations

import pytest

from infra.settings import Settings
from taskcraft.errors import ConfigError


def test_tool_queues_parse_pairs() -> None:
    settings = Settings.from_env(
        {"TASKCRAFT_TOOL_QUEUES": " run_shell = build-box , query_sql=db-host,"}
    )
    assert settings.tool_task_queues == {"run_shell": "build-box", "query_sql": "db-host"}


def test_no_tool_queues_by_default() -> None:
    assert Settings.from_env({}).tool_task_queues == {}


@pytest.mark.parametrize("raw", ["run_shell", "run_shell=", "=build-box"])
def test_a_malformed_pair_is_refused_at_start_up(raw: str) -> None:
    with pytest.raises(ConfigError, match=f"TASKCRAFT_TOOL_QUEUES takes tool=queue pairs.*{raw!r}"):
        Settings.from_env({"TASKCRAFT_TOOL_QUEUES": raw})
