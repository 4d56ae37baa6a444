"""Agent files: one TOML file per agent, every problem reported as ``file:line: key: message``."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.catalog import EXAMPLES
from taskcraft.agent_files import load_agent_file, load_folder
from taskcraft.approvals import TimeoutOutcome
from taskcraft.budgets import OnExhausted
from taskcraft.errors import AgentFileError
from taskcraft.inputs import InputType

FULL = """\
name = "ticket-triage"
description = "Labels new tickets."
instructions = "Triage."
model = "openai:gpt-4o-mini?maximum_attempts=3, anthropic:claude-3-5-haiku-latest"
tools = ["read_file", "issues.*"]
policy = "triage"
max_steps = 12
continue_as_new_after_steps = 40

[[step_routes]]
from_step = 3
model = "anthropic:claude-3-5-sonnet-latest"

[budgets]
max_tokens = 50_000
max_cost_usd = 0.5
max_duration = "2h"
on_exhausted = "ask"

[approval]
timeout = "3d"
on_timeout = "escalate"
approvers = ["alice"]
escalate_to = ["bob"]
escalation_timeout = "12h"

[recovery]
window = "6h"
max_delay = "15m"

[[inputs]]
name = "project"
pattern = "[A-Z]+"
default = "SUP"

[[inputs]]
name = "since"
type = "date"
required = true
"""


def write(tmp_path: Path, text: str, name: str = "agent.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(AgentFileError) as caught:
        load_agent_file(path)
    return caught.value.problems


def test_a_full_agent_file_reads_into_every_setting(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    agent = load_agent_file(path)
    assert agent.name == "ticket-triage"
    assert agent.source == str(path)
    assert [ref.ref for ref in agent.model_route] == [
        "openai:gpt-4o-mini",
        "anthropic:claude-3-5-haiku-latest",
    ]
    assert agent.model_route[0].retry.maximum_attempts == 3
    assert [r.ref for r in agent.route_for_step(3)] == ["anthropic:claude-3-5-sonnet-latest"]
    assert agent.tools == ["read_file", "issues.*"]
    assert (agent.policy, agent.max_steps, agent.continue_as_new_after_steps) == ("triage", 12, 40)
    assert agent.budgets.max_tokens == 50_000
    assert agent.budgets.max_duration_s == 7200
    assert agent.budgets.on_exhausted is OnExhausted.ASK
    assert agent.approval.timeout_s == 3 * 86400
    assert agent.approval.on_timeout is TimeoutOutcome.ESCALATE
    assert agent.approval.escalation_timeout_s == 12 * 3600
    assert (agent.recovery.window_s, agent.recovery.max_delay_s) == (6 * 3600, 900)
    assert [(i.name, i.type, i.required, i.default) for i in agent.inputs] == [
        ("project", InputType.STRING, False, "SUP"),
        ("since", InputType.DATE, True, None),
    ]


def test_every_problem_names_its_line_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'name = "Bad Name"\n'
        'instructions = "x"\n'
        "max_steps = 0\n"
        'colour = "blue"\n'
        "\n"
        "[budgets]\n"
        'max_tokens = "lots"\n'
        "\n"
        "[approval]\n"
        'timeout = "soon"\n'
        "\n"
        "[[inputs]]\n"
        'name = "when"\n'
        'type = "moment"\n',
    )
    assert problems(path) == [
        f"{path}:1: name: agent name 'Bad Name' must start with a letter and use lower-case "
        "letters, digits and '-' (it is part of task ids and search attributes)",
        f"{path}:3: max_steps: Input should be greater than or equal to 1",
        f"{path}:4: colour: Extra inputs are not permitted",
        f"{path}:7: budgets.max_tokens: Input should be a valid integer, unable to parse string "
        "as an integer",
        f"{path}:10: approval.timeout: 'soon' is not a duration; write seconds (90) or a number "
        "with a unit: 90s, 15m, 6h, 3d, 1w",
        f"{path}:14: inputs[0].type: Input should be 'string', 'integer', 'number', 'boolean', "
        "'date', 'datetime' or 'iso_week'",
    ]


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'name = "x"\ninstructions = "unterminated\n')
    [problem] = problems(path)
    assert problem.startswith(f"{path}:2: invalid TOML: ")


def test_a_missing_key_and_a_bad_default_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'name = "x"\n\n[[inputs]]\nname = "week"\ntype = "iso_week"\ndefault = "2026-W99"\n',
    )
    assert problems(path) == [
        f"{path}: instructions: Field required",
        f"{path}:3: inputs[0]: input week='2026-W99' is invalid: expected an ISO week like "
        "2026-W47",
    ]


def test_the_error_itself_is_one_line_pointing_at_agents_check(tmp_path: Path) -> None:
    path = write(tmp_path, 'name = "x"\nmax_steps = -1\n')
    with pytest.raises(AgentFileError) as caught:
        load_agent_file(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.endswith("(and 1 more: `taskcraft agents check` lists them)")


def test_a_folder_reads_every_agent_file_and_its_settings(tmp_path: Path) -> None:
    write(tmp_path, FULL, "triage.toml")
    write(tmp_path, 'name = "other"\ninstructions = "x"\n', "other.toml")
    write(
        tmp_path,
        'modules = ["my_tools"]\n[mcp_servers.issues]\nurl = "https://x/mcp"\n',
        "taskcraft.toml",
    )
    (tmp_path / "policies").mkdir()
    folder = load_folder(tmp_path)
    assert [agent.name for agent in folder.agents] == ["other", "ticket-triage"]
    assert folder.settings.modules == ["my_tools"]
    assert folder.settings.mcp_servers == {"issues": {"url": "https://x/mcp"}}
    assert folder.policy_dir == tmp_path / "policies"


def test_a_folder_reports_the_problems_of_all_its_files_at_once(tmp_path: Path) -> None:
    write(tmp_path, 'name = "a"\n', "a.toml")
    write(tmp_path, 'name = "b"\ninstructions = 3\n', "b.toml")
    write(tmp_path, 'modules = ["not a module"]\n', "taskcraft.toml")
    with pytest.raises(AgentFileError) as caught:
        load_folder(tmp_path)
    assert caught.value.problems == [
        f"{tmp_path / 'taskcraft.toml'}:1: modules: 'not a module' is not a Python module name "
        "(like my_tools or pkg.tools)",
        f"{tmp_path / 'a.toml'}: instructions: Field required",
        f"{tmp_path / 'b.toml'}:2: instructions: Input should be a valid string",
    ]


def test_the_shipped_agents_are_files_in_the_examples() -> None:
    folder = load_folder(EXAMPLES / "agents")
    agents = {agent.name: agent for agent in folder.agents}
    assert set(agents) == {"workspace-analyst", "web-researcher"}
    assert agents["workspace-analyst"].tools == ["list_files", "read_file", "write_file"]
    assert agents["web-researcher"].max_steps == 12
    assert all(agent.model_route == [] for agent in agents.values())
