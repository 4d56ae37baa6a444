"""What a calling agent's model sees of another agent, and what a child inherits.

The tool's arguments are the called agent's inputs plus ``goal``; the child's budget is
what remained of every budget above it; the stricter policy decides each call.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infra.catalog import check, load_catalog
from taskcraft.agent_calls import (
    BudgetCap,
    agent_tool_name,
    agent_tool_spec,
    cap_exhausted,
    child_request,
    remaining_budget,
    strictest_decision,
)
from taskcraft.agents import AgentSpec
from taskcraft.arguments import ArgumentError, validate_arguments
from taskcraft.budgets import Budgets, BudgetUsage
from taskcraft.messages import Usage
from taskcraft.policy import Effect, PolicyContext, evaluate_tool_call, load_policy_text

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
RESEARCHER = AgentSpec.model_validate(
    {
        "name": "web-researcher",
        "description": "Finds sources on the web.",
        "instructions": "Research.",
        "workflow": "ResearchWorkflow",
        "inputs": [
            {"name": "depth", "type": "integer", "default": 2},
            {"name": "since", "type": "date", "required": True},
            {"name": "audience", "enum": ["team", "customers"]},
            {"name": "verbose", "type": "boolean"},
        ],
    }
)


def test_the_tool_is_named_wire_safe_and_takes_the_agents_inputs_plus_a_goal() -> None:
    spec = agent_tool_spec(RESEARCHER)
    assert spec.name == agent_tool_name("web-researcher") == "call_agent_web_researcher"
    assert "web-researcher" in spec.description
    assert "Finds sources on the web." in spec.description
    assert spec.calls_agent is not None
    assert spec.calls_agent.agent == "web-researcher"
    assert spec.calls_agent.workflow == "ResearchWorkflow"
    schema = spec.parameters
    assert schema["required"] == ["goal", "since"]
    assert {name: prop["type"] for name, prop in schema["properties"].items()} == {
        "goal": "string",
        "depth": "integer",
        "since": "string",
        "audience": "string",
        "verbose": "boolean",
    }
    assert schema["properties"]["audience"]["enum"] == ["team", "customers"]
    assert "a date like 2026-11-16" in schema["properties"]["since"]["description"]
    validate_arguments(schema, {"goal": "find", "since": "2026-11-01", "depth": 3})
    with pytest.raises(ArgumentError) as caught:
        validate_arguments(schema, {"goal": "find", "colour": "red"})
    assert "arguments.since is required" in str(caught.value)
    assert "arguments.colour is not a known argument" in str(caught.value)


def test_arguments_become_the_childs_goal_and_text_inputs() -> None:
    goal, inputs = child_request({"goal": " find ", "depth": 3, "verbose": True, "since": "x"})
    assert goal == "find"
    assert inputs == {"depth": "3", "verbose": "true", "since": "x"}


def used(tokens: int = 0, cost: float = 0.0, calls: int = 0, extensions: int = 0) -> BudgetUsage:
    return BudgetUsage(
        tokens=Usage(input_tokens=tokens),
        cost_usd=cost,
        tool_calls=calls,
        extensions=extensions,
    )


def test_a_child_gets_what_is_left_of_the_stricter_of_its_parents_budgets() -> None:
    budgets = Budgets(max_tokens=1000, max_tool_calls=10, max_duration_s=3600)
    inherited = BudgetCap(max_tokens=500, max_cost_usd=0.5, deadline=NOW + timedelta(minutes=30))
    left = remaining_budget(budgets, used(300, 0.1, 4), inherited, started=NOW)
    assert left == BudgetCap(
        max_tokens=200,  # its own cap of 500, minus 300 spent (its budget left 700)
        max_cost_usd=0.4,
        max_tool_calls=6,
        deadline=NOW + timedelta(minutes=30),  # sooner than its own hour
    )
    # An approval at a budget gate raised its own limits; spending past them leaves 0.
    assert remaining_budget(budgets, used(1500, extensions=1), None, started=NOW).max_tokens == 500
    assert remaining_budget(Budgets(max_tokens=10), used(50), None, started=NOW).max_tokens == 0
    assert remaining_budget(Budgets(), used(50), None, started=NOW) == BudgetCap()


def test_a_cap_says_which_part_of_the_parents_budget_ran_out() -> None:
    cap = BudgetCap(max_tokens=100, max_cost_usd=1.0, max_tool_calls=3, deadline=NOW)
    before, after = NOW - timedelta(seconds=1), NOW + timedelta(seconds=1)
    assert cap_exhausted(cap, used(99, 0.5, 2), before) is None
    assert cap_exhausted(cap, used(100), before) == (
        "the parent task's remaining budget is used up: 100 of 100 tokens"
    )
    assert "$1.0000 of $1.0000" in str(cap_exhausted(cap, used(cost=1.0), before))
    assert "3 of 3 tool calls" in str(cap_exhausted(cap, used(calls=3), before))
    assert str(cap_exhausted(cap, used(), after)).startswith("the parent task's time ran out")


OWN = load_policy_text('name = "own"\ndefault_effect = "allow"\n')
PARENT = load_policy_text(
    'name = "parent"\ndefault_effect = "allow"\n'
    '[[rules]]\nid = "no-deletes"\ntool = "delete_file"\neffect = "deny"\nreason = "never"\n'
    '[[rules]]\nid = "ask-writes"\ntool = "write_file"\neffect = "require_approval"\n'
    'approvers = ["carol"]\n'
)


def decide(tool: str) -> tuple[Effect, str, list[str]]:
    decision = strictest_decision(
        evaluate_tool_call(OWN, tool, {}), [PARENT], tool, {}, PolicyContext()
    )
    return decision.effect, decision.rule_id, decision.approvers


def test_the_stricter_policy_decides_and_an_ancestors_rule_is_named_as_such() -> None:
    assert decide("delete_file") == (Effect.DENY, "parent:no-deletes", [])
    assert decide("write_file") == (Effect.REQUIRE_APPROVAL, "parent:ask-writes", ["carol"])
    assert decide("read_file") == (Effect.ALLOW, "default", [])
    strict = strictest_decision(
        evaluate_tool_call(OWN, "delete_file", {}), [PARENT], "delete_file", {}, PolicyContext()
    )
    assert strict.reason == "the calling task's policy 'parent': never"


def test_agents_check_names_agents_that_cannot_be_called(tmp_path: Path) -> None:
    (tmp_path / "lead.toml").write_text(
        'name = "lead"\ninstructions = "x"\nagents = ["ghost", "picky"]\n'
    )
    (tmp_path / "picky.toml").write_text(
        'name = "picky"\ninstructions = "x"\n[[inputs]]\nname = "goal"\n'
    )
    found = check(load_catalog([tmp_path]), tool_names=[], workflow_names=["AgentWorkflow"])
    lead = tmp_path / "lead.toml"
    assert found == [
        f"{lead}: agent 'lead' may call unknown agent 'ghost' (known: lead, picky)",
        f"{lead}: agent 'lead' may call agent 'picky', whose input 'goal' clashes with the "
        "goal every call passes; rename the input",
    ]
