"""Counts and scores for the policy corpus: ``python -m tests.policy_corpus.report``.

Prints how many calls the corpus holds per kind, tool and technique, and how many each
shipped policy decides as expected; lists every miss. Exits 1 when there is a miss.
"""

from __future__ import annotations

import sys
from collections import Counter

from taskcraft.policy import load_named_policy
from tests.policy_corpus.cases import KINDS, POLICIES, Case, load_corpus


def report(cases: list[Case]) -> tuple[list[str], int]:
    policies = {name: load_named_policy(name) for name in POLICIES}
    misses: list[str] = []
    scores: Counter[tuple[str, str]] = Counter()
    for case in cases:
        for name, policy in policies.items():
            got = case.effect(policy)
            if got is case.expected[name]:
                scores[(name, case.kind)] += 1
            else:
                misses.append(
                    f"  {name}: {case.label} expected {case.expected[name].value}, got {got.value}"
                )
    lines = [f"Policy corpus: {len(cases)} calls", ""]
    tools = sorted({case.tool for case in cases})
    lines.append(f"{'tool':<12}" + "".join(f"{kind:>11}" for kind in KINDS) + f"{'total':>8}")
    for tool in tools:
        counts = [sum(1 for c in cases if c.tool == tool and c.kind == kind) for kind in KINDS]
        lines.append(f"{tool:<12}" + "".join(f"{n:>11}" for n in counts) + f"{sum(counts):>8}")
    lines.append("")
    techniques = sorted({case.technique for case in cases})
    lines.append(f"{'technique':<16}" + "".join(f"{kind:>11}" for kind in KINDS))
    for technique in techniques:
        counts = [
            sum(1 for c in cases if c.technique == technique and c.kind == kind) for kind in KINDS
        ]
        lines.append(f"{technique:<16}" + "".join(f"{n:>11}" for n in counts))
    lines.append("")
    for name in POLICIES:
        parts = []
        for kind in KINDS:
            total = sum(1 for c in cases if c.kind == kind)
            parts.append(f"{kind} {scores[(name, kind)]}/{total}")
        lines.append(f"{name:<8} " + ", ".join(parts))
    if misses:
        lines += ["", "Misses:", *misses]
    return lines, len(misses)


def main() -> int:
    lines, misses = report(load_corpus())
    print("\n".join(lines))
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
