"""Policy files: validation errors that name the file, line, key and rule; evaluation order."""

from __future__ import annotations

from pathlib import Path

import pytest

import taskcraft.policy as policy_package
from taskcraft.errors import PolicyFileError
from taskcraft.policy import (
    Effect,
    Policy,
    builtin_policy_dir,
    evaluate_tool_call,
    explain_tool_call,
    load_policy,
    load_policy_text,
    resolve_policy,
)

HEADER = 'name = "t"\ndefault_effect = "deny"\n'


def _error(text: str, source: str = "policies/t.toml") -> str:
    with pytest.raises(PolicyFileError) as raised:
        load_policy_text(text, source)
    return str(raised.value)


def test_public_surface() -> None:
    """What other packages may import from taskcraft.policy, and nothing by accident."""
    assert set(policy_package.__all__) == {
        "DEFAULT_RULE_ID", "CallView", "Condition", "Effect", "Finding", "Policy",
        "PolicyContext", "PolicyDecision", "PolicyExplanation", "Rule", "RuleCheck",
        "builtin_policy_dir", "evaluate_tool_call", "explain_tool_call", "load_named_policy",
        "load_policy", "load_policy_text", "render_call_view", "resolve_policy",
    }  # fmt: skip


def test_bad_effect_names_file_line_key_and_rule() -> None:
    text = (
        HEADER
        + '\n[[rules]]\nid = "a"\ntool = "x"\neffect = "allow"\n\n[[rules]]\nid = "b"\ntool = "y"\neffect = "nope"\n'
    )
    assert _error(text) == (
        "policies/t.toml:12: rules[1].effect (rule 'b'): "
        "Input should be 'allow', 'deny' or 'require_approval'"
    )


def test_every_problem_gets_its_own_line_in_file_order() -> None:
    text = 'name = "t"\ncolour = "red"\n[[rules]]\nid = "a"\neffect = "deny"\nwhen = [{ arg = "x", matchez = "y" }]\n'
    lines = _error(text).splitlines()
    assert lines == [
        "policies/t.toml: default_effect: missing; say what happens to calls no rule matches: "
        "'allow', 'deny' or 'require_approval'",
        "policies/t.toml:2: colour: Extra inputs are not permitted",
        "policies/t.toml:3: rules[0].tool (rule 'a'): Field required",
        "policies/t.toml:6: rules[0].when[0].matchez (rule 'a'): Extra inputs are not permitted",
    ]


def test_toml_syntax_errors_give_line_and_column() -> None:
    assert _error(HEADER + "[[rules]]\nid = \n") == (
        "policies/t.toml:4:6: invalid TOML: Invalid value"
    )


def test_duplicate_rule_ids_are_refused() -> None:
    rule = '[[rules]]\nid = "same"\ntool = "x"\neffect = "allow"\n'
    message = _error(HEADER + rule + rule)
    assert "rules: rule id 'same' is used by rules[0] and rules[1]; ids must be unique" in message


def test_bad_regex_names_the_rule_and_the_pattern() -> None:
    text = (
        HEADER
        + '[[rules]]\nid = "r"\ntool = "x"\neffect = "deny"\nwhen = [{ arg = "p", matches = "a(" }]\n'
    )
    assert _error(text) == (
        "policies/t.toml:7: rules[0].when[0].matches (rule 'r'): "
        "invalid regular expression /a(/: missing ), unterminated subpattern at position 1"
    )


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('id = "default"\ntool = "x"\neffect = "deny"', "'default' is reserved"),
        ('id = "has space"\ntool = "x"\neffect = "deny"', "rule ids are letters, digits"),
        (
            'id = "a"\ntool = ""\neffect = "deny"',
            "tool (rule 'a'): String should have at least 1 character",
        ),
        ('id = "a"\ntool = "x"\neffect = "deny"\napprovers = ["bob"]', "approvers only apply"),
        (
            'id = "a"\ntool = "x"\neffect = "deny"\nwhen = [{ arg = "p" }]',
            "needs at least one test",
        ),
        (
            'id = "a"\ntool = "x"\neffect = "deny"\nwhen = [{ arg = "p", ignore_case = true }]',
            "ignore_case only",
        ),
        (
            'id = "a"\ntool = "x"\neffect = "deny"\nwhen = [{ arg = "p", equals = [1] }]',
            "string, number or boolean",
        ),
        (
            'id = "a"\ntool = "x"\neffect = "deny"\nwhen = [{ arg = "u", host_in = ["a b"] }]',
            "not a host name",
        ),
        (
            'id = "a"\ntool = "x"\neffect = "deny"\nwhen = [{ arg = "u", gt = "big" }]',
            "gt (rule 'a'): Input should be a valid number",
        ),
    ],
)
def test_rule_problems_are_explained(rule: str, message: str) -> None:
    assert message in _error(HEADER + "[[rules]]\n" + rule + "\n")


def test_name_defaults_to_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "ops.toml"
    path.write_text('default_effect = "deny"\n')
    assert load_policy(path).name == "ops"


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="no such policy file"):
        load_policy(tmp_path / "missing.toml")
    (tmp_path / "latin1.toml").write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(PolicyFileError, match="not UTF-8"):
        load_policy(tmp_path / "latin1.toml")


def test_resolve_policy_searches_directories_then_builtins(tmp_path: Path) -> None:
    (tmp_path / "default.toml").write_text('default_effect = "deny"\n')
    assert resolve_policy("default", [tmp_path]) == tmp_path / "default.toml"
    assert resolve_policy("strict", [tmp_path]) == builtin_policy_dir() / "strict.toml"
    with pytest.raises(PolicyFileError, match="no policy named 'nope'"):
        resolve_policy("nope", [tmp_path])
    with pytest.raises(PolicyFileError, match="no policy named 'strict'"):
        resolve_policy("strict", [tmp_path], include_builtin=False)


@pytest.mark.parametrize("name", ["../etc/passwd", "a/b", "", ".hidden", "a..b"])
def test_policy_names_cannot_be_paths(name: str) -> None:
    with pytest.raises(PolicyFileError, match="is not a policy name"):
        resolve_policy(name)


def test_shipped_policies_are_valid() -> None:
    for path in sorted(builtin_policy_dir().glob("*.toml")):
        assert load_policy(path).name == path.stem


# --- evaluation -----------------------------------------------------------------------------


def _policy(text: str) -> Policy:
    return load_policy_text(text, "test.toml")


def test_first_matching_rule_wins_and_default_applies_otherwise() -> None:
    policy = _policy(
        'default_effect = "deny"\ndefault_reason = "nope"\n'
        '[[rules]]\nid = "ask"\ntool = "write_*"\neffect = "require_approval"\napprovers = ["ann"]\n'
        '[[rules]]\nid = "never"\ntool = "write_file"\neffect = "allow"\n'
    )
    decision = evaluate_tool_call(policy, "write_file", {})
    assert (decision.effect, decision.rule_id, decision.approvers) == (
        Effect.REQUIRE_APPROVAL,
        "ask",
        ["ann"],
    )
    decision = evaluate_tool_call(policy, "read_file", {})
    assert (decision.effect, decision.rule_id, decision.reason) == (Effect.DENY, "default", "nope")


def test_default_deny_without_rules() -> None:
    decision = evaluate_tool_call(_policy('default_effect = "deny"'), "anything", {"x": 1})
    assert decision.effect is Effect.DENY
    assert decision.reason == "no rule matched; denied by default"


def test_conditions_must_all_hold_and_missing_arguments_do_not_match() -> None:
    policy = _policy(
        'default_effect = "allow"\n[[rules]]\nid = "big"\ntool = "*"\neffect = "deny"\n'
        'when = [{ arg = "n", ge = 10, lt = 20 }, { arg = "mode", in = ["a", "b"] }]\n'
    )
    assert evaluate_tool_call(policy, "t", {"n": 15, "mode": "a"}).effect is Effect.DENY
    assert evaluate_tool_call(policy, "t", {"n": 20, "mode": "a"}).effect is Effect.ALLOW
    assert evaluate_tool_call(policy, "t", {"n": 15, "mode": "c"}).effect is Effect.ALLOW
    assert evaluate_tool_call(policy, "t", {"mode": "a"}).effect is Effect.ALLOW
    assert evaluate_tool_call(policy, "t", {"n": "15", "mode": "a"}).effect is Effect.ALLOW


def test_equality_is_type_aware() -> None:
    policy = _policy(
        'default_effect = "allow"\n[[rules]]\nid = "append"\ntool = "*"\neffect = "deny"\n'
        'when = { arg = "append", equals = true }\n'
    )
    assert evaluate_tool_call(policy, "w", {"append": True}).effect is Effect.DENY
    assert evaluate_tool_call(policy, "w", {"append": 1}).effect is Effect.ALLOW


def test_matches_searches_and_can_ignore_case() -> None:
    policy = _policy(
        'default_effect = "allow"\n[[rules]]\nid = "q"\ntool = "*"\neffect = "deny"\n'
        'when = [{ arg = "q", matches = \'^drop$\', ignore_case = true }, { arg = "q", not_in = ["DROP"] }]\n'
    )
    assert evaluate_tool_call(policy, "t", {"q": "Drop"}).effect is Effect.DENY
    assert evaluate_tool_call(policy, "t", {"q": "DROP"}).effect is Effect.ALLOW
    assert evaluate_tool_call(policy, "t", {"q": "drop\nx"}).effect is Effect.ALLOW


def test_explanation_lists_the_rules_tried() -> None:
    policy = _policy(
        'default_effect = "deny"\n'
        '[[rules]]\nid = "other"\ntool = "x"\neffect = "allow"\n'
        '[[rules]]\nid = "hosts"\ntool = "http_get"\neffect = "allow"\n'
        'when = [{ arg = "url", host_in = ["*.example.com"] }]\n'
    )
    explanation = explain_tool_call(policy, "http_get", {"url": "https://api.example.com/"})
    assert [(c.rule_id, c.matched) for c in explanation.checked] == [("hosts", True)]
    assert explanation.decision.detail == "url: host api.example.com is in the list"


def test_policies_survive_a_round_trip_through_json() -> None:
    """Pinned policies travel as JSON (``in`` is dumped as ``in_``) and must decode the same."""
    policy = _policy(
        'default_effect = "deny"\n[[rules]]\nid = "m"\ntool = "*"\neffect = "allow"\n'
        'when = [{ arg = "mode", in = ["a"] }]\n'
    )
    again = Policy.model_validate_json(policy.model_dump_json())
    assert again == policy
    assert again.content_hash() == policy.content_hash()
    assert evaluate_tool_call(again, "t", {"mode": "a"}).effect is Effect.ALLOW


def test_content_hash_changes_with_the_rules() -> None:
    first = _policy('default_effect = "deny"')
    assert first.content_hash() == _policy('default_effect = "deny"\n# a comment').content_hash()
    assert first.content_hash() != _policy('default_effect = "allow"').content_hash()
