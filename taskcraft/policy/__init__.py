"""Runtime-enforced tool-call policy: which calls run, which are refused, which wait for a human.

Policies are TOML files (``loader``, which also flattens ``extends``) validated into
``Policy`` (``schema``); rules match a tool by name and its arguments by conditions
(``conditions``), some of which parse shell commands, SQL, paths and URLs (``shell``,
``sql``, ``paths``, ``urls``). Evaluation (``engine``) is pure and deterministic, so
workflow code runs it directly; ``PolicyContext`` carries what the caller knows about
where the call runs (the workspace root), and every decision carries a ``CallView`` of
what the policy understood, which ``render_call_view`` turns into lines for people.
"""

from taskcraft.policy.conditions import Condition
from taskcraft.policy.context import PolicyContext
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
from taskcraft.policy.view import CallView, render_call_view

__all__ = [
    "DEFAULT_RULE_ID",
    "CallView",
    "Condition",
    "Effect",
    "Finding",
    "Policy",
    "PolicyContext",
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
    "render_call_view",
    "resolve_policy",
]
