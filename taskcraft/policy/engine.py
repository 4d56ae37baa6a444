"""Evaluating a policy: pure, deterministic, safe to run inside workflow code.

Every decision carries a ``CallView``: what the policy understood of the call (programs,
paths, hosts, SQL statements) from the arguments its checked rules parsed, so a person
asked to approve sees the same reading the policy made.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, Field

from taskcraft.policy.context import NO_CONTEXT, PolicyContext
from taskcraft.policy.finding import Finding
from taskcraft.policy.schema import DEFAULT_RULE_ID, Effect, Policy, PolicyDecision, Rule
from taskcraft.policy.view import build_view

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


def evaluate_tool_call(
    policy: Policy,
    tool: str,
    arguments: Mapping[str, Any],
    context: PolicyContext | None = None,
) -> PolicyDecision:
    """First matching rule wins; the policy's default applies when none matches."""
    return explain_tool_call(policy, tool, arguments, context).decision


def explain_tool_call(
    policy: Policy,
    tool: str,
    arguments: Mapping[str, Any],
    context: PolicyContext | None = None,
) -> PolicyExplanation:
    """The decision, with every rule considered on the way and why it did or did not match.

    ``context`` tells the policy where the call runs (the workspace root); without it,
    every absolute path counts as outside the workspace.
    """
    context = context or NO_CONTEXT
    checked: list[RuleCheck] = []
    analyses: list[tuple[str, str]] = []
    for index, rule in enumerate(policy.rules):
        if not fnmatchcase(tool, rule.tool):
            continue
        if rule.writes is not None and rule.writes != bool(context.writes):
            continue
        analyses += [
            (kind, name)
            for c in rule.when
            for kind in c.analyses()
            for name in c.arg_names(arguments, context)
        ]
        finding = _conditions_hold(rule, arguments, context)
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
                named_hosts=sorted(
                    {h for c in rule.when for h in c.named_hosts(arguments, context)}
                ),
            )
            return _explained(decision, checked, arguments, analyses, context)
    verb = _VERBS[policy.default_effect]
    decision = PolicyDecision(
        effect=policy.default_effect,
        rule_id=DEFAULT_RULE_ID,
        reason=policy.default_reason or f"no rule matched; {verb} by default",
    )
    return _explained(decision, checked, arguments, analyses, context)


def _explained(
    decision: PolicyDecision,
    checked: list[RuleCheck],
    arguments: Mapping[str, Any],
    analyses: list[tuple[str, str]],
    context: PolicyContext,
) -> PolicyExplanation:
    rule = f"{decision.rule_id} → {decision.effect.value}: {decision.reason}"
    decision.view = build_view(rule, arguments, analyses, context)
    return PolicyExplanation(decision=decision, checked=checked)


def _conditions_hold(rule: Rule, arguments: Mapping[str, Any], context: PolicyContext) -> Finding:
    reasons: list[str] = []
    for condition in rule.when:
        finding = condition.check(arguments, context)
        if not finding.holds:
            return finding
        reasons.append(finding.why)
    return Finding(True, "; ".join(reasons) or f"tool matches {rule.tool!r}")
