"""Runtime-enforced tool-call policy: which calls run, which are refused, which wait for a human."""

from taskcraft.policy.engine import evaluate_tool_call
from taskcraft.policy.schema import Effect, Policy, PolicyDecision, Rule

__all__ = ["Effect", "Policy", "PolicyDecision", "Rule", "evaluate_tool_call"]
