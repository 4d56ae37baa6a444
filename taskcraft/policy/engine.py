"""Evaluating a policy: pure, deterministic, safe to run inside workflow code."""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, Field

from taskcraft.policy.finding import Finding
from taskcraft.policy.schema import DEFAULT_RULE_ID, Effect, Policy, PolicyDecision, Rule

_VERBS = {
    Effect.ALLOW: "allowed",
    Effect.DENY: "denied",
    Effect.REQUIRE_APPROVAL: "held for approval",
}


class RuleCheck(BaseModel):
    """One rule whose tool pattern matched, and whether its conditions held."""

    index: int
    rule_id: str
    matched: bool
    why: str


class PolicyExplanation(BaseModel):
    decision: PolicyDecision
    # Rules whose tool pattern matched the tool, in order, up to the one that decided.
    checked: list[RuleCheck] = Field(default_factory=list)


def evaluate_tool_call(policy: Policy, tool: str, arguments: Mapping[str, Any]) -> PolicyDecision:
    """First matching rule wins; the policy's default applies when none matches."""
    return explain_tool_call(policy, tool, arguments).decision


def explain_tool_call(policy: Policy, tool: str, arguments: Mapping[str, Any]) -> PolicyExplanation:
    """The decision, with every rule considered on the way and why it did or did not match."""
    checked: list[RuleCheck] = []
    for index, rule in enumerate(policy.rules):
        if not fnmatchcase(tool, rule.tool):
            continue
        finding = _conditions_hold(rule, arguments)
        checked.append(
            RuleCheck(index=index, rule_id=rule.id, matched=finding.holds, why=finding.why)
        )
        if finding.holds:
            decision = PolicyDecision(
                effect=rule.effect,
                rule_id=rule.id,
                reason=rule.reason or f"{_VERBS[rule.effect]} by rule {rule.id!r}",
                approvers=list(rule.approvers),
                detail=finding.why,
            )
            return PolicyExplanation(decision=decision, checked=checked)
    verb = _VERBS[policy.default_effect]
    decision = PolicyDecision(
        effect=policy.default_effect,
        rule_id=DEFAULT_RULE_ID,
        reason=policy.default_reason or f"no rule matched; {verb} by default",
    )
    return PolicyExplanation(decision=decision, checked=checked)


def _conditions_hold(rule: Rule, arguments: Mapping[str, Any]) -> Finding:
    reasons: list[str] = []
    for condition in rule.when:
        finding = condition.check(arguments)
        if not finding.holds:
            return finding
        reasons.append(finding.why)
    return Finding(True, "; ".join(reasons) or f"tool matches {rule.tool!r}")
