"""``extends``: a policy built on another, flattened into one policy when loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from taskcraft.errors import PolicyFileError
from taskcraft.policy import (
    Effect,
    builtin_policy_dir,
    evaluate_tool_call,
    load_named_policy,
    load_policy,
    load_policy_text,
)

LOCAL_API = (
    '[[rules]]\nid = "local-api"\ntool = "http_get"\neffect = "allow"\n'
    'when = [{ arg = "url", host_in = ["localhost"] }]\n'
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def test_own_rules_come_first_then_the_base_rules(tmp_path: Path) -> None:
    path = write(tmp_path, "ops", 'extends = "default"\n' + LOCAL_API)
    policy = load_policy(path)
    default = load_named_policy("default")
    assert [rule.id for rule in policy.rules] == ["local-api", *[r.id for r in default.rules]]
    assert (policy.name, policy.default_effect, policy.default_reason) == (
        "ops",
        default.default_effect,
        default.default_reason,
    )
    assert policy.description == default.description


def test_an_operator_allows_one_local_host_without_copying_the_policy(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "ops", 'extends = "default"\n' + LOCAL_API))
    assert evaluate_tool_call(policy, "http_get", {"url": "http://localhost:8080/"}).effect is (
        Effect.ALLOW
    )
    for url in ("http://127.0.0.1:8080/", "http://169.254.169.254/"):
        assert evaluate_tool_call(policy, "http_get", {"url": url}).effect is Effect.DENY
    shell = evaluate_tool_call(policy, "run_shell", {"command": "rm -rf /"})
    assert (shell.effect, shell.rule_id) == (Effect.DENY, "shell-no-destructive")


def test_the_file_defaults_win_when_given(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "tight",
        'extends = "default"\ndefault_effect = "deny"\ndescription = "tighter"\n',
    )
    policy = load_policy(path)
    assert (policy.default_effect, policy.default_reason, policy.description) == (
        Effect.DENY,
        "",  # the base's reason was about asking a person; it would now mislead
        "tighter",
    )
    assert evaluate_tool_call(policy, "brand_new_tool", {}).reason == (
        "no rule matched; denied by default"
    )


def test_the_flat_policy_hashes_like_the_same_rules_written_out(tmp_path: Path) -> None:
    """A pinned task sees exactly the rules that apply, and its hash says so."""
    extended = load_policy(write(tmp_path, "ops", 'extends = "strict"\n'))
    strict = load_named_policy("strict")
    assert extended.model_copy(update={"name": "strict"}).content_hash() == strict.content_hash()


def test_a_file_may_extend_the_shipped_policy_of_its_own_name(tmp_path: Path) -> None:
    write(tmp_path, "default", 'extends = "default"\n' + LOCAL_API)
    policy = load_named_policy("default", [tmp_path])
    assert policy.rules[0].id == "local-api"
    assert len(policy.rules) == len(load_policy(builtin_policy_dir() / "default.toml").rules) + 1


def test_a_base_is_found_in_the_search_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write(tmp_path / "b", "team", 'extends = "strict"\n' + LOCAL_API)
    write(tmp_path / "a", "ops", 'extends = "team"\n')
    policy = load_named_policy("ops", [tmp_path / "a", tmp_path / "b"])
    assert policy.rules[0].id == "local-api"
    assert policy.default_effect is Effect.DENY


def test_an_unknown_base_is_one_error_line(tmp_path: Path) -> None:
    path = write(tmp_path, "ops", 'description = "x"\nextends = "nope"\n')
    with pytest.raises(PolicyFileError) as raised:
        load_policy(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:2: extends: no policy named 'nope' (looked in {tmp_path}, ")


def test_a_cycle_is_one_error_line(tmp_path: Path) -> None:
    write(tmp_path, "a", 'extends = "b"\n')
    write(tmp_path, "b", 'extends = "a"\n')
    with pytest.raises(PolicyFileError) as raised:
        load_policy(tmp_path / "a.toml")
    assert (
        str(raised.value)
        == f"{tmp_path / 'b.toml'}:1: extends: a cycle: a.toml -> b.toml -> a.toml"
    )


def test_a_rule_id_the_base_already_has_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ops",
        'extends = "default"\n[[rules]]\nid = "read-files"\ntool = "read_file"\neffect = "deny"\n',
    )
    with pytest.raises(PolicyFileError) as raised:
        load_policy(path)
    assert str(raised.value) == (
        f"{path}:3: rules[0].id (rule 'read-files'): the base policy 'default' already has a "
        "rule 'read-files'; pick another id"
    )


@pytest.mark.parametrize("name", ["../default", 3, ""])
def test_extends_must_name_a_policy(name: object) -> None:
    text = f"extends = {name!r}\n".replace("'", '"')
    with pytest.raises(PolicyFileError, match=r"extends: .* is not a policy name"):
        load_policy_text(text, "t.toml")
