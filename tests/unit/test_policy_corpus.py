"""Every call in the policy corpus gets the effect it states, under both shipped policies.

The corpus (``tests/policy_corpus/corpus.toml``) holds dangerous calls (denied by both
policies: a dangerous call sent to a person is a miss), harmless look-alikes (allowed) and
scoped writes (a person decides under ``default``; ``strict`` denies). Counts per tool and
technique, and the scores: ``python -m tests.policy_corpus.report``.
"""

from __future__ import annotations

from collections import Counter

import pytest

from taskcraft.policy import Effect, Policy, load_named_policy
from tests.policy_corpus import POLICIES, Case, load_corpus
from tests.policy_corpus.cases import TECHNIQUES

CASES = load_corpus()


@pytest.fixture(scope="module")
def policies() -> dict[str, Policy]:
    return {name: load_named_policy(name) for name in POLICIES}


@pytest.mark.parametrize("case", CASES, ids=[case.label for case in CASES])
def test_corpus_call_gets_its_expected_effect(case: Case, policies: dict[str, Policy]) -> None:
    got = {name: case.effect(policy) for name, policy in policies.items()}
    assert got == case.expected, f"{case.technique}: {case.note}"


def test_corpus_is_as_large_as_issue_17_asks() -> None:
    """At least 150 dangerous calls, 60 harmless look-alikes and 25 scoped writes."""
    kinds = Counter(case.kind for case in CASES)
    assert kinds["dangerous"] >= 150
    assert kinds["harmless"] >= 60
    assert kinds["writes"] >= 25


def test_corpus_covers_every_tool_and_technique() -> None:
    assert {case.tool for case in CASES} >= {
        "run_shell",
        "sql_query",
        "read_file",
        "write_file",
        "list_files",
        "http_get",
    }
    assert {case.technique for case in CASES} == TECHNIQUES


def test_corpus_expectations_follow_the_issue_targets() -> None:
    """Dangerous: denied by both. Harmless: allowed (strict reaches no network). Writes:
    a person decides under default, strict denies."""
    for case in CASES:
        if case.kind == "dangerous":
            assert case.expected == {"default": Effect.DENY, "strict": Effect.DENY}, case.label
        elif case.kind == "harmless":
            strict = Effect.DENY if case.tool == "http_get" else Effect.ALLOW
            assert case.expected == {"default": Effect.ALLOW, "strict": strict}, case.label
        else:
            assert case.expected == {"default": Effect.REQUIRE_APPROVAL, "strict": Effect.DENY}, (
                case.label
            )
