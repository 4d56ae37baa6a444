"""The catalog: agent folders and their modules, checked as a worker checks them at start."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from infra.catalog import check, load_catalog, workflow_name
from taskcraft.errors import AgentFileError
from taskcraft.tools import Tool

AGENT = 'name = "{name}"\ninstructions = "Do it."\ntools = {tools}\n'


def folder_with(tmp_path: Path, module_source: str = "", **agents: str) -> tuple[Path, str]:
    """A folder of agents with one module of its own (a unique name: imports are cached)."""
    module = f"mod_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(module_source)
    (tmp_path / "taskcraft.toml").write_text(f'modules = ["{module}"]\n')
    for name, tools in agents.items():
        (tmp_path / f"{name}.toml").write_text(AGENT.format(name=name, tools=tools))
    return tmp_path, module


TOOLS_MODULE = '''
from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow

from taskcraft import AgentSpec, TaskInput, TaskResult, tool
from workflows import TaskWorkflow


@tool
def shout(text: str) -> str:
    """Shout the text."""
    return text.upper()


PYTHON_AGENT = AgentSpec(name="py-agent", instructions="Shout.", tools=["shout"])


@workflow.defn(name="OwnWorkflow")
class OwnWorkflow(TaskWorkflow):
    @workflow.run
    async def run(self, inp: TaskInput) -> TaskResult:
        return self.task.complete("done")
'''


def test_a_folder_gives_its_agents_and_what_its_modules_define(tmp_path: Path) -> None:
    folder, module = folder_with(tmp_path, TOOLS_MODULE, shouter='["shout"]')
    catalog = load_catalog([folder])
    assert set(catalog.agents) == {"shouter", "py-agent"}
    assert catalog.agents["py-agent"].source == f"python:{module}"
    assert [tool.name for tool in catalog.tools] == ["shout"]
    assert all(isinstance(tool, Tool) for tool in catalog.tools)
    assert [workflow_name(w) for w in catalog.workflows] == ["OwnWorkflow"]
    assert check(catalog, tool_names=["shout"], workflow_names=["AgentWorkflow"]) == []


def test_an_agent_naming_an_unknown_tool_workflow_or_policy_is_one_line_each(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.toml").write_text(
        'name = "a"\ninstructions = "x"\ntools = ["nope"]\nworkflow = "Gone"\npolicy = "absent"\n'
    )
    catalog = load_catalog([tmp_path])
    found = check(catalog, tool_names=["read_file"], workflow_names=["AgentWorkflow"])
    path = tmp_path / "a.toml"
    assert found[0] == f"{path}: agent 'a' names unknown tool 'nope' (known: read_file)"
    assert found[1] == (
        f"{path}: agent 'a' runs workflow 'Gone', which no module registers (known: AgentWorkflow)"
    )
    assert found[2].startswith(f"{path}: agent 'a' uses policy 'absent': no policy named 'absent'")


def test_mcp_patterns_need_a_configured_server(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(
        'name = "a"\ninstructions = "x"\ntools = ["issues.*", "wiki.read"]\n'
    )
    (tmp_path / "taskcraft.toml").write_text(
        '[mcp_servers.issues]\nurl = "https://x.example/mcp"\n'
    )
    catalog = load_catalog([tmp_path])
    assert catalog.mcp_servers["issues"].url == "https://x.example/mcp"
    assert check(catalog, tool_names=[], workflow_names=["AgentWorkflow"]) == [
        f"{tmp_path / 'a.toml'}: agent 'a' names unknown tool 'wiki.read' (known: none)"
    ]


def test_a_stdio_server_runs_in_its_folder(tmp_path: Path) -> None:
    (tmp_path / "taskcraft.toml").write_text(
        '[mcp_servers.a]\ncommand = "python"\n[mcp_servers.b]\ncommand = "python"\ncwd = "sub"\n'
    )
    catalog = load_catalog([tmp_path])
    assert catalog.mcp_servers["a"].cwd == str(tmp_path.resolve())
    assert catalog.mcp_servers["b"].cwd == str((tmp_path / "sub").resolve())


def refusal(folders: list[Path]) -> list[str]:
    with pytest.raises(AgentFileError) as caught:
        load_catalog(folders)
    return caught.value.problems


def test_a_tool_with_a_bad_signature_is_one_line_naming_its_file(tmp_path: Path) -> None:
    folder, module = folder_with(
        tmp_path, "from taskcraft import tool\n\n@tool\ndef bad(path) -> str:\n    '''Bad.'''\n"
    )
    [problem] = refusal([folder])
    assert problem == f"{tmp_path / module}.py:3: tool 'bad': parameter 'path' has no type hint"


def test_a_module_that_does_not_import_is_one_line_naming_it(tmp_path: Path) -> None:
    folder, module = folder_with(tmp_path, "import not_installed_anywhere\n")
    [problem] = refusal([folder])
    assert problem == (
        f"{tmp_path / 'taskcraft.toml'}: module {module} failed to import: "
        "ModuleNotFoundError: No module named 'not_installed_anywhere'"
    )


def test_a_module_with_a_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    folder, module = folder_with(tmp_path, "x = 1\ndef broken(:\n")
    [problem] = refusal([folder])
    assert problem.startswith(f"{tmp_path / module}.py:2: module {module}: ")


def test_an_agent_defined_twice_names_both_places(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "x.toml").write_text('name = "x"\ninstructions = "a"\n')
    (two / "x.toml").write_text('name = "x"\ninstructions = "b"\n')
    assert refusal([one, two]) == [
        f"{two / 'x.toml'}: agent 'x' is already defined in {one / 'x.toml'}"
    ]


def test_a_bad_mcp_server_is_one_line_naming_the_file_and_server(tmp_path: Path) -> None:
    (tmp_path / "taskcraft.toml").write_text(
        '[mcp_servers.issues]\ncommand = "x"\nurl = "https://x/mcp"\n'
    )
    [problem] = refusal([tmp_path])
    assert problem.startswith(f"{tmp_path / 'taskcraft.toml'}: mcp_servers.issues: MCP server ")
    assert "needs exactly one of `command`" in problem


def test_a_workflow_whose_run_does_not_match_the_handlers_says_how_to_fix_it(
    tmp_path: Path,
) -> None:
    source = TOOLS_MODULE.replace("from __future__ import annotations\n", "")
    folder, _module = folder_with(tmp_path, source)
    [problem] = refusal([folder])
    assert problem.endswith("start the module with `from __future__ import annotations`)")
