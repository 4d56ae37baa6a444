"""``taskcraft policy check FILE`` and ``taskcraft policy explain FILE --tool NAME --args JSON``.

``explain`` prints the decision, the rule that made it, what the policy understood of the
call (the programs, paths, hosts and SQL statements it parsed: the same view an approver
is shown) and every rule it tried on the way.

Both return ``(exit code, text)`` for the CLI to print: 0 and a report on success, 2 (bad
input, as everywhere in the CLI) and ``Error: file:line: ...`` lines for a policy file
that does not load (one line per problem), 2 and an ``Error: ...`` line for ``--args``
that is not a JSON object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from infra.settings import Settings
from taskcraft.errors import PolicyFileError
from taskcraft.policy import (
    Effect,
    Policy,
    PolicyContext,
    explain_tool_call,
    load_policy,
    render_call_view,
)
from taskcraft.redact import redact, redact_text

EXIT_OK = 0
EXIT_BAD_POLICY = 2  # a policy file is input too: bad input exits 2
EXIT_BAD_INPUT = 2


def check(path: str) -> tuple[int, str]:
    """Validate the policy file at ``path``."""
    try:
        policy = load_policy(path)
    except PolicyFileError as error:
        return EXIT_BAD_POLICY, _error_lines(error)
    return EXIT_OK, (
        f"{path}: valid policy {policy.name!r}: {len(policy.rules)} rules, "
        f"default {policy.default_effect.value}, sha256 {policy.content_hash()[:12]}"
    )


@dataclass(frozen=True)
class Declared:
    """What a tool says about its arguments, as the worker hands it to the policy."""

    arg_kinds: dict[str, str] = field(default_factory=dict)
    writes: bool | None = None


def explain(
    path: str,
    tool: str,
    args_json: str,
    workspace_root: str | None = None,
    declared: Declared | None = None,
) -> tuple[int, str]:
    """Which rule of the policy at ``path`` decides a call of ``tool`` with these arguments.

    ``workspace_root``: judge absolute paths against this workspace, as a worker would.
    ``declared``: the tool's declared argument kinds and writes (``None``: a tool this
    process does not know, judged by name and arguments alone).
    """
    try:
        arguments = json.loads(args_json)
    except json.JSONDecodeError as error:
        return EXIT_BAD_INPUT, (
            f"Error: --args is not valid JSON ({error.msg} at column {error.colno}); "
            """pass an object, for example --args '{"path": "README.md"}'"""
        )
    if not isinstance(arguments, dict):
        return EXIT_BAD_INPUT, (
            f"Error: --args must be a JSON object of argument names to values, "
            f"not {type(arguments).__name__}"
        )
    try:
        context = PolicyContext(
            workspace_root=workspace_root,
            arg_kinds=declared.arg_kinds if declared else {},
            writes=declared.writes if declared else None,
        )
    except ValueError:
        return (
            EXIT_BAD_INPUT,
            f"Error: --workspace must be an absolute path, not {workspace_root!r}",
        )
    try:
        policy = load_policy(path)
    except PolicyFileError as error:
        return EXIT_BAD_POLICY, _error_lines(error)
    return EXIT_OK, _explanation(policy, tool, arguments, context, declared)


def _explanation(
    policy: Policy,
    tool: str,
    arguments: dict[str, object],
    context: PolicyContext,
    declared: Declared | None,
) -> str:
    explanation = explain_tool_call(policy, tool, arguments, context)
    decision = explanation.decision
    decided_by = "the policy's default (no rule matched)"
    for check in explanation.checked:
        if check.matched:
            decided_by = f"rule {check.rule_id!r} (rules[{check.index}])"
    lines = [
        f"policy: {policy.name} (sha256 {policy.content_hash()[:12]})",
        f"call: {tool} {json.dumps(redact(arguments), sort_keys=True)}",
        f"tool declares: {_declared(declared)}",
        f"decision: {decision.effect.value}",
        f"decided by: {decided_by}",
        f"reason: {decision.reason}",
    ]
    if decision.detail:
        lines.append(f"found: {redact_text(decision.detail)}")
    if decision.effect is Effect.REQUIRE_APPROVAL:
        lines.append(f"approvers: {', '.join(decision.approvers) or 'any operator'}")
    seen = render_call_view(decision.view)
    if seen:
        lines.append("what the policy understood:")
        lines += [f"  {line}" for line in seen]
    lines.append(
        "rules for this tool, in order:" if explanation.checked else "no rule names this tool"
    )
    for check in explanation.checked:
        verdict = "matches" if check.matched else "does not match"
        lines.append(f"  rules[{check.index}] {check.rule_id}: {verdict}: {redact_text(check.why)}")
    return "\n".join(lines)


def declared_by(tool: str, settings: Settings) -> Declared | None:
    """What ``tool`` declares, looked up where a worker of these settings finds it."""
    from infra.catalog import tool_named

    found = tool_named(tool, settings)
    return None if found is None else Declared(dict(found.arg_kinds), found.writes)


def _declared(declared: Declared | None) -> str:
    if declared is None:
        return "nothing known here (not a built-in or agent-folder tool): judged by name only"
    kinds = ", ".join(f"{arg}={kind}" for arg, kind in sorted(declared.arg_kinds.items()))
    writes = {None: "writes not declared", True: "writes", False: "read-only"}[declared.writes]
    return f"{kinds or 'no argument kinds'}; {writes}"


def _error_lines(error: PolicyFileError) -> str:
    return "\n".join(f"Error: {line}" for line in str(error).splitlines())
