"""Runtime-enforced tool-call policy: which calls run, which are refused, which wait for a human.

Policies are TOML files (``loader``) validated into ``Policy`` (``schema``); rules match a
tool by name and its arguments by conditions (``conditions``), some of which parse shell
commands, SQL, paths and URLs (``shell``, ``sql``, ``paths``, ``urls``). Evaluation
(``engine``) is pure and deterministic, so workflow code runs it directly.
"""

from taskcraft.policy.conditions import Condition
from taskcraft.policy.engine import (
    PolicyExplanation,
    RuleCheck,
    evaluate_tool_call,
    explain_tool_call,
)
from taskcraft.policy.finding import Finding
from taskcraft.policy.loader import (
    builtin_policy_dir,
    load_named_policy,
    load_policy,
    load_policy_text,
    resolve_policy,
)
from taskcraft.policy.schema import DEFAULT_RULE_ID, Effect, Policy, PolicyDecision, Rule

__all__ = [
    "DEFAULT_RULE_ID",
    "Condition",
    "Effect",
    "Finding",
    "Policy",
    "PolicyDecision",
    "PolicyExplanation",
    "Rule",
    "RuleCheck",
    "builtin_policy_dir",
    "evaluate_tool_call",
    "explain_tool_call",
    "load_named_policy",
    "load_policy",
    "load_policy_text",
    "resolve_policy",
]
