"""Problems are caught at the door, in one line each: bad agent files, tool modules and MCP
servers when a worker starts (or `agents check` runs), bad inputs when a task starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import PROJECT_ROOT, Processes, wait_until


def _worker_refusal(processes: Processes, folder: Path) -> str:
    """Start a worker on ``folder``; it must exit 2 with one ``Error:`` line."""
    worker = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "worker.py")],
        env={**processes.env, "TASKCRAFT_AGENTS": str(folder)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert worker.returncode == 2, worker.stdout + worker.stderr
    errors = [line for line in worker.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, worker.stderr
    return errors[0]


def test_a_bad_agent_file_stops_the_worker_naming_file_and_line(
    processes: Processes, tmp_path: Path
) -> None:
    folder = tmp_path / "agents"
    folder.mkdir()
    (folder / "triage.toml").write_text('name = "triage"\ninstructions = "x"\nmax_steps = "many"\n')
    error = _worker_refusal(processes, folder)
    assert error == (
        f"Error: {folder / 'triage.toml'}:3: max_steps: Input should be a valid integer, "
        "unable to parse string as an integer"
    )


def test_a_tool_with_a_bad_signature_stops_the_worker_naming_its_file(
    processes: Processes, tmp_path: Path
) -> None:
    folder = tmp_path / "agents"
    folder.mkdir()
    (folder / "taskcraft.toml").write_text('modules = ["bad_tools"]\n')
    (folder / "bad_tools.py").write_text(
        "from taskcraft import tool\n\n\n@tool\nasync def lookup(key):\n    '''Look up.'''\n"
    )
    error = _worker_refusal(processes, folder)
    assert error == (
        f"Error: {folder / 'bad_tools.py'}:4: tool 'lookup': parameter 'key' has no type hint"
    )


def test_an_agent_naming_an_unknown_tool_stops_the_worker(
    processes: Processes, tmp_path: Path
) -> None:
    folder = tmp_path / "agents"
    folder.mkdir()
    (folder / "a.toml").write_text('name = "a"\ninstructions = "x"\ntools = ["read_fiel"]\n')
    error = _worker_refusal(processes, folder)
    assert error.startswith(f"Error: {folder / 'a.toml'}: agent 'a' names unknown tool 'read_fiel'")


def test_an_unreachable_mcp_server_is_named_at_worker_start_and_by_agents_check(
    processes: Processes, tmp_path: Path
) -> None:
    folder = tmp_path / "agents"
    folder.mkdir()
    (folder / "taskcraft.toml").write_text(
        '[mcp_servers.wiki]\nurl = "http://127.0.0.1:9/mcp"\nconnect_timeout_s = 3\n'
    )
    (folder / "reader.toml").write_text('name = "reader"\ninstructions = "x"\ntools = ["wiki.*"]\n')
    processes.env["TASKCRAFT_AGENTS"] = str(folder)
    processes.start_worker()

    def warned() -> bool:
        return any(
            json.loads(line).get("event") == "mcp.unreachable"
            for line in processes.worker_log().splitlines()
            if line.startswith("{")
        )

    wait_until(warned, timeout=60, what="the worker's mcp.unreachable line")
    [line] = [
        json.loads(line)
        for line in processes.worker_log().splitlines()
        if line.startswith("{") and json.loads(line).get("event") == "mcp.unreachable"
    ]
    assert line["server"] == "wiki"
    assert line["problem"].startswith("MCP server 'wiki' is unavailable: ")
    checked = processes.cli("agents", "check", str(folder / "reader.toml"))
    assert checked.returncode == 2
    [problem] = checked.stderr.splitlines()
    assert problem.startswith("MCP server 'wiki': MCP server 'wiki' is unavailable: ")


def test_agents_check_lists_every_problem_of_a_folder(processes: Processes, tmp_path: Path) -> None:
    folder = tmp_path / "agents"
    folder.mkdir()
    (folder / "a.toml").write_text('name = "a"\n')
    (folder / "b.toml").write_text('name = "b"\ninstructions = "x"\ntools = ["nope"]\n')
    checked = processes.cli("agents", "check", str(folder))
    assert checked.returncode == 2
    lines = checked.stderr.splitlines()
    assert lines[0] == f"{folder / 'a.toml'}: instructions: Field required"
    assert len(lines) == 1  # b is checked once a folder reads cleanly
    (folder / "a.toml").write_text('name = "a"\ninstructions = "x"\n')
    checked = processes.cli("agents", "check", str(folder))
    assert checked.returncode == 2
    assert checked.stderr.splitlines()[0].startswith(
        f"{folder / 'b.toml'}: agent 'b' names unknown tool 'nope'"
    )
    (folder / "b.toml").write_text('name = "b"\ninstructions = "x"\ntools = ["read_file"]\n')
    good = processes.cli("agents", "check", str(folder))
    assert (good.returncode, good.stdout) == (0, "ok: a, b\n")


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            ["week=2026-W47", "colour=blue"],
            "agent 'incident-report' takes no input colour (its inputs: project, week)",
        ),
        (["week=2026-W99"], "input week='2026-W99' is invalid: expected an ISO week like 2026-W47"),
        (
            ["week=2026-W47", "project=inc"],
            "input project='inc' is invalid: expected text matching [A-Z][A-Z0-9_]{0,19}",
        ),
        (["novalue"], "--input 'novalue' must look like KEY=VALUE"),
        (["week=2026-W47", "week=2026-W48"], "--input week is given twice"),
    ],
)
def test_bad_inputs_are_refused_before_any_task_exists(
    processes: Processes, inputs: list[str], message: str
) -> None:
    args = [arg for value in inputs for arg in ("--input", value)]
    task_id = "bad-input-task"
    started = processes.cli("start", "incident-report", *args, "--id", task_id)
    assert (started.returncode, started.stdout) == (2, "")
    assert started.stderr == f"Error: {message}\n"
    listed = processes.cli("list", "--json")
    assert task_id not in listed.stdout


def test_unknown_agents_and_wrong_types_for_a_users_agent(
    processes: Processes, tmp_path: Path
) -> None:
    folder = tmp_path / "agents"
    folder.mkdir()
    (folder / "counter.toml").write_text(
        'name = "counter"\ninstructions = "x"\n'
        '[[inputs]]\nname = "limit"\ntype = "integer"\nrequired = true\n'
    )
    processes.env["TASKCRAFT_AGENTS"] = str(folder)
    unknown = processes.cli("start", "countr")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("Error: unknown agent 'countr'; known agents: counter, ")
    missing = processes.cli("start", "counter")
    assert missing.stderr == (
        "Error: agent 'counter' needs input limit (a whole number): pass --input limit=...\n"
    )
    wrong = processes.cli("start", "counter", "--input", "limit=many")
    assert wrong.stderr == "Error: input limit='many' is invalid: expected a whole number\n"
    broken_policy = processes.cli(
        "start", "counter", "--input", "limit=3", "--goal", "count", "--policy", "broken"
    )
    assert broken_policy.returncode == 2
    assert broken_policy.stderr.startswith("Error: --policy broken: no policy named 'broken'")


def _worker_warnings(processes: Processes, event: str) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for line in processes.worker_log().splitlines()
        if line.startswith("{") and json.loads(line).get("event") == event
    ]


def test_a_broken_policy_and_a_provider_without_a_key_are_said_at_worker_start(
    processes: Processes, tmp_path: Path
) -> None:
    """Not at the first task: a warning naming the file and setting, or the variable."""
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "typo.toml").write_text('default_effect = "alow"\n')
    folder = tmp_path / "agents"
    folder.mkdir()
    (folder / "writer.toml").write_text(
        'name = "writer"\ninstructions = "x"\nmodel = "anthropic:claude-3-5-haiku-latest"\n'
    )
    env = {"TASKCRAFT_POLICY_DIRS": str(policies), "TASKCRAFT_AGENTS": str(folder)}
    processes.env.update(env)
    processes.env.pop("ANTHROPIC_API_KEY", None)
    processes.start_worker()
    wait_until(
        lambda: bool(_worker_warnings(processes, "model.unconfigured")),
        timeout=60,
        what="the worker's start-up warnings",
    )
    [policy] = _worker_warnings(processes, "policy.invalid")
    assert str(policy["problem"]).startswith(f"{policies / 'typo.toml'}:1: default_effect: ")
    assert str(policy["problem"]).endswith(
        "(a policy in TASKCRAFT_POLICY_DIRS; tasks that name it will fail)"
    )
    [model] = _worker_warnings(processes, "model.unconfigured")
    assert model["problem"] == (
        "anthropic:claude-3-5-haiku-latest (used by writer) cannot be called from this worker: "
        "set ANTHROPIC_API_KEY; until then its calls fail over or wait in RECOVERING"
    )


def test_an_agent_whose_policy_does_not_load_stops_the_worker(
    processes: Processes, tmp_path: Path
) -> None:
    folder = tmp_path / "agents"
    (folder / "policies").mkdir(parents=True)
    (folder / "policies" / "mine.toml").write_text('default_effect = "deny"\n[[rules]]\nid = 3\n')
    (folder / "a.toml").write_text('name = "a"\ninstructions = "x"\npolicy = "mine"\n')
    error = _worker_refusal(processes, folder)
    assert error.startswith(f"Error: {folder / 'a.toml'}: agent 'a' uses policy 'mine': ")
    assert "mine.toml" in error


def test_checking_one_file_uses_its_folders_tools_and_servers(
    processes: Processes, tmp_path: Path
) -> None:
    """A file is checked as the worker would load it: with its folder's taskcraft.toml."""
    guide = PROJECT_ROOT / "examples" / "guide"
    processes.env.pop("TASKCRAFT_AGENTS", None)
    processes.env["NOTES_FILE"] = str(tmp_path / "notes.jsonl")
    checked = processes.cli("agents", "check", str(guide / "notes-keeper.toml"))
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "ok: notes-keeper\n", "")
    processes.env.pop("NOTES_FILE")
    missing = processes.cli("agents", "check", str(guide / "notes-keeper.toml"))
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        "MCP server 'notes': MCP server 'notes' needs the environment variable NOTES_FILE "
        "(in env.NOTES_FILE), which is not set on this worker; set it where the worker runs"
    ]
