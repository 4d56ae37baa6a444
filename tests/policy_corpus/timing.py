"""How long the policy check takes per call, over the corpus: run by hand, never in CI.

    python -m tests.policy_corpus.timing [--rounds 5]

Each corpus call is evaluated against the shipped ``default`` and ``strict`` policies
with ``evaluate_tool_call`` (the decision, its explanation and its view, as workflow code
gets them). "cold" clears the shell analysis cache before every call, as the first
evaluation of a new command sees it (path and secret look-ups too); "warm" is a repeat of the same call (the activity's
re-check, an edit validated again). Prints the median, p99 and maximum per call.
"""

from __future__ import annotations

import argparse
import statistics
import time

from taskcraft.policy import evaluate_tool_call, load_named_policy
from taskcraft.policy.paths import why_outside
from taskcraft.policy.secret_paths import secret_location
from taskcraft.policy.shell_analysis import analyse
from tests.policy_corpus.cases import CONTEXT, POLICIES, load_corpus


def measure(rounds: int, *, cold: bool) -> list[float]:
    cases = load_corpus()
    policies = [load_named_policy(name) for name in POLICIES]
    timings: list[float] = []
    for _ in range(rounds):
        for case in cases:
            for policy in policies:
                if cold:
                    for cached in (analyse, why_outside, secret_location):
                        cached.cache_clear()
                start = time.perf_counter()
                evaluate_tool_call(policy, case.tool, case.args, CONTEXT)
                timings.append(time.perf_counter() - start)
    return timings


def summary(label: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (
        f"{label}: {len(ordered)} evaluations, median {statistics.median(ordered) * 1e3:.3f} ms, "
        f"p99 {p99 * 1e3:.3f} ms, max {ordered[-1] * 1e3:.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    measure(1, cold=True)  # imports and first-use costs out of the way
    print(f"corpus: {len(load_corpus())} calls x {len(POLICIES)} policies x {args.rounds} rounds")
    print(summary("cold", measure(args.rounds, cold=True)))
    print(summary("warm", measure(args.rounds, cold=False)))


if __name__ == "__main__":
    main()
