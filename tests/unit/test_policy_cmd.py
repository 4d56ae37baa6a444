"""``taskcraft policy check`` and ``taskcraft policy explain``: exit codes and what they print."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.app import main
from cli.policy_cmd import (
    EXIT_BAD_INPUT,
    EXIT_BAD_POLICY,
    EXIT_OK,
    Declared,
    check,
    declared_by,
    explain,
)
from infra.settings import Settings
from taskcraft.policy import builtin_policy_dir, load_policy

DEFAULT = str(builtin_policy_dir() / "default.toml")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broken_policy(tmp_path: Path) -> str:
    path = tmp_path / "broken.toml"
    path.write_text(
        'default_effect = "maybe"\n[[rules]]\nid = "a"\ntool = "x"\neffect = "deny"\nflavour = 1\n'
    )
    return str(path)


def test_check_accepts_the_shipped_policy() -> None:
    code, text = check(DEFAULT)
    assert code == EXIT_OK
    assert text.startswith(f"{DEFAULT}: valid policy 'default': ")
    assert "default require_approval" in text


def test_check_reports_each_problem_on_an_error_line(broken_policy: str) -> None:
    code, text = check(broken_policy)
    assert code == EXIT_BAD_POLICY
    assert text.splitlines() == [
        f"Error: {broken_policy}:1: default_effect: Input should be 'allow', 'deny' or 'require_approval'",
        f"Error: {broken_policy}:6: rules[0].flavour (rule 'a'): Extra inputs are not permitted",
    ]


def test_check_of_a_malformed_file_exits_2_like_all_bad_input(broken_policy: str) -> None:
    """The README promises exit code 2 for bad input; a policy file is input."""
    code, _ = check(broken_policy)
    assert code == 2


def test_check_reports_every_duplicate_rule_id_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "dupes.toml"
    rule = '[[rules]]\nid = "{id}"\ntool = "x"\neffect = "deny"\n'
    path.write_text(
        'default_effect = "deny"\n'
        + rule.format(id="same")  # lines 2-5
        + rule.format(id="other")  # lines 6-9
        + rule.format(id="same")  # lines 10-13
        + rule.format(id="other")  # lines 14-17
    )
    code, text = check(str(path))
    assert code == 2
    assert text.splitlines() == [
        f"Error: {path}:11: rules: rule id 'same' is used by rules[0] and "
        "rules[2]; ids must be unique",
        f"Error: {path}:15: rules: rule id 'other' is used by rules[1] and "
        "rules[3]; ids must be unique",
    ]


def test_check_reports_duplicates_beside_other_problems(tmp_path: Path) -> None:
    """A bad rule elsewhere does not hide the duplicate (pydantic alone would stop first)."""
    path = tmp_path / "mixed.toml"
    path.write_text(
        'default_effect = "deny"\n'
        '[[rules]]\nid = "a"\ntool = "x"\neffect = "deny"\n'
        '[[rules]]\nid = "a"\ntool = "x"\neffect = "nope"\n'
    )
    code, text = check(str(path))
    assert code == 2
    assert [line.split(": ")[1] for line in text.splitlines()] == [f"{path}:7", f"{path}:9"]
    assert "rule id 'a' is used by rules[0] and rules[1]" in text.splitlines()[0]


def test_check_of_a_policy_that_extends_another(tmp_path: Path) -> None:
    """The flat policy is checked: its rules are its own and its base's."""
    path = tmp_path / "ops.toml"
    path.write_text('extends = "strict"\n[[rules]]\nid = "x"\ntool = "x"\neffect = "deny"\n')
    code, text = check(str(path))
    rules = len(load_policy(builtin_policy_dir() / "strict.toml").rules) + 1
    assert (code, text.split(": ", 1)[1].split(", default")[0]) == (
        EXIT_OK,
        f"valid policy 'ops': {rules} rules",
    )
    path.write_text('extends = "nope"\n')
    code, text = check(str(path))
    assert code == 2
    assert text.startswith(f"Error: {path}:1: extends: no policy named 'nope'")


def test_check_of_a_missing_file(tmp_path: Path) -> None:
    assert check(str(tmp_path / "nope.toml")) == (
        EXIT_BAD_POLICY,
        f"Error: {tmp_path / 'nope.toml'}: no such policy file",
    )


def test_explain_names_the_deciding_rule_and_why() -> None:
    rule_ids = [rule.id for rule in load_policy(DEFAULT).rules]
    deciding, later = rule_ids.index("shell-no-destructive"), rule_ids.index("shell-read-only")
    code, text = explain(DEFAULT, "run_shell", json.dumps({"command": "ls; rm -rf /"}))
    assert code == EXIT_OK
    lines = text.splitlines()
    assert "decision: deny" in lines
    assert f"decided by: rule 'shell-no-destructive' (rules[{deciding}])" in lines
    assert (
        "found: command: shell_is_destructive is true (rm with a recursive flag deletes whole trees)"
        in lines
    )
    assert f"rules[{later}]" not in text  # rules after the deciding one are not tried


def test_explain_shows_what_the_policy_understood() -> None:
    """The parsed programs, paths and hosts: the view an approver is shown."""
    command = "mkdir -p out && curl -o out/page.html https://docs.python.org/3/"
    code, text = explain(DEFAULT, "run_shell", json.dumps({"command": command}))
    assert code == EXIT_OK
    lines = text.splitlines()
    start = lines.index("what the policy understood:")
    assert lines[start + 1].startswith("  Rule: shell-other → require_approval: ")
    assert lines[start + 2 : start + 5] == [
        "  Programs:",
        "    mkdir -p out",
        "    curl -o out/page.html https://docs.python.org/3/",
    ]
    assert "  Hosts:" in lines
    assert "    docs.python.org" in lines
    assert "    out/page.html (inside)" in lines


def test_explain_judges_absolute_paths_against_a_given_workspace() -> None:
    arguments = json.dumps({"path": "/srv/ws/README.md"})
    assert "decision: deny" in explain(DEFAULT, "read_file", arguments)[1]
    code, text = explain(DEFAULT, "read_file", arguments, workspace_root="/srv/ws")
    assert code == EXIT_OK
    assert "decision: allow" in text
    assert "    /srv/ws/README.md (inside)" in text.splitlines()


def test_explain_refuses_a_relative_workspace() -> None:
    code, text = explain(DEFAULT, "read_file", "{}", workspace_root="srv/ws")
    assert (code, text) == (
        EXIT_BAD_INPUT,
        "Error: --workspace must be an absolute path, not 'srv/ws'",
    )


def test_explain_masks_secrets_in_what_it_understood() -> None:
    command = 'curl -H "Authorization: Bearer abcdefghijkl" https://docs.python.org/'
    code, text = explain(DEFAULT, "run_shell", json.dumps({"command": command}))
    assert code == EXIT_OK
    assert "abcdefghijkl" not in text
    assert "Authorization: Bearer [REDACTED]" in text


def test_explain_a_call_no_rule_covers() -> None:
    code, text = explain(DEFAULT, "brand_new_tool", "{}")
    assert code == EXIT_OK
    assert "decided by: the policy's default (no rule matched)" in text
    assert "approvers: any operator" in text


def test_explain_masks_secrets_in_the_arguments() -> None:
    arguments = {"url": "https://bob:hunter2@api.github.com/", "token": "abc"}
    code, text = explain(DEFAULT, "http_get", json.dumps(arguments))
    assert code == EXIT_OK
    assert "hunter2" not in text
    assert "abc" not in text
    assert "decision: deny" in text  # user info in a URL is never an allowed host


@pytest.mark.parametrize(
    ("args_json", "message"),
    [("{", "Error: --args is not valid JSON"), ("[1]", "Error: --args must be a JSON object")],
)
def test_explain_refuses_arguments_that_are_not_a_json_object(args_json: str, message: str) -> None:
    code, text = explain(DEFAULT, "read_file", args_json)
    assert code == EXIT_BAD_INPUT
    assert text.startswith(message)
    assert "\n" not in text


def test_explain_with_a_broken_policy(broken_policy: str) -> None:
    code, text = explain(broken_policy, "x", "{}")
    assert code == EXIT_BAD_POLICY
    assert all(line.startswith("Error: ") for line in text.splitlines())


def test_explain_judges_a_tool_by_what_it_declares_as_a_worker_does() -> None:
    """A user tool the policy never names is still governed by the kinds it declares."""
    arguments = json.dumps({"script": "rm -rf ~/"})
    declared = Declared(arg_kinds={"script": "shell"}, writes=True)
    code, text = explain(DEFAULT, "deploy_runner", arguments, declared=declared)
    assert code == EXIT_OK
    assert "decision: deny" in text
    assert "decided by: rule 'declared-shell-no-destructive'" in text
    assert "tool declares: script=shell; writes" in text
    unknown = explain(DEFAULT, "deploy_runner", arguments)[1]
    assert "decision: require_approval" in unknown
    assert "tool declares: nothing known here" in unknown


def test_declared_by_finds_built_in_and_agent_folder_tools() -> None:
    settings = Settings.from_env({"TASKCRAFT_AGENTS": str(ROOT / "examples" / "guide")})
    assert declared_by("run_shell", settings) == Declared({"command": "shell"}, writes=True)
    assert declared_by("word_count", settings) == Declared({}, writes=False)
    assert declared_by("no_such_tool", settings) is None


def test_explain_command_line_uses_the_declarations(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["policy", "explain", DEFAULT, "--tool", "read_file", "--args", '{"path": "/srv/ws/a.txt"}',
         "--workspace", "/srv/ws"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == EXIT_OK
    assert "tool declares: path=workspace_path; read-only" in out
    assert "decision: allow" in out
