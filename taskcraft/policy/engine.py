"""Evaluating a policy: pure, deterministic, safe to run inside workflow code."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from taskcraft.policy.schema import Policy, PolicyDecision


def evaluate_tool_call(policy: Policy, tool: str, arguments: dict[str, Any]) -> PolicyDecision:
    """First matching rule wins; the policy's default applies when none matches."""
    for rule in policy.rules:
        if fnmatchcase(tool, rule.tool):
            return PolicyDecision(
                effect=rule.effect, rule_id=rule.id, reason=rule.reason, approvers=rule.approvers
            )
    return PolicyDecision(
        effect=policy.default_effect, rule_id="default", reason=policy.default_reason
    )
