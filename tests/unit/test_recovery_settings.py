"""An agent file's ``[recovery]`` table: how long to wait, and what a configuration error does."""

from __future__ import annotations

from pathlib import Path

import pytest

from taskcraft.agent_files import load_agent_file
from taskcraft.agents import OnConfigError
from taskcraft.errors import AgentFileError


def agent_file(tmp_path: Path, recovery: str) -> Path:
    path = tmp_path / "waiter.toml"
    path.write_text(f'name = "waiter"\ninstructions = "Answer."\n\n[recovery]\n{recovery}')
    return path


def test_a_configuration_error_waits_unless_the_agent_says_fail(tmp_path: Path) -> None:
    waits = load_agent_file(agent_file(tmp_path, 'window = "1h"\n'))
    assert waits.recovery.on_config_error is OnConfigError.WAIT
    assert waits.recovery.window_s == 3600
    fails = load_agent_file(agent_file(tmp_path, 'on_config_error = "fail"\n'))
    assert fails.recovery.on_config_error is OnConfigError.FAIL


def test_an_unknown_choice_names_its_line(tmp_path: Path) -> None:
    path = agent_file(tmp_path, 'window = "1h"\non_config_error = "retry"\n')
    with pytest.raises(AgentFileError) as caught:
        load_agent_file(path)
    assert caught.value.problems == [
        f"{path}:6: recovery.on_config_error: Input should be 'wait' or 'fail'"
    ]
