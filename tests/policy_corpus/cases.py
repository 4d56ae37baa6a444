"""Reading ``corpus.toml`` into cases, and judging one case against the shipped policies."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskcraft.policy import Effect, Policy, PolicyContext, evaluate_tool_call

CORPUS = Path(__file__).with_name("corpus.toml")
KINDS = ("dangerous", "harmless", "writes")
POLICIES = ("default", "strict")
TECHNIQUES = frozenset(
    [
        "plain",
        "quoting",
        "spacing",
        "case",
        "flags-wrappers",
        "encoding",
        "chaining",
        "subshell",
        "variables",
        "unicode",
        "comments",
        "traversal",
        "redirection",
        "interpreter",
    ]
)
# The workspace the corpus's calls run in (absolute paths under it are inside).
CONTEXT = PolicyContext(workspace_root="/srv/ws")


@dataclass(frozen=True)
class Case:
    kind: str  # dangerous, harmless or writes
    tool: str
    args: dict[str, Any]
    expected: dict[str, Effect]  # policy name -> effect
    technique: str
    note: str

    @property
    def label(self) -> str:
        shown = next(iter(self.args.values()), "") if self.args else ""
        return f"{self.kind}:{self.tool}:{str(shown)[:60]!r}"

    def effect(self, policy: Policy) -> Effect:
        return evaluate_tool_call(policy, self.tool, self.args, CONTEXT).effect


def load_corpus(path: Path = CORPUS) -> list[Case]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    cases: list[Case] = []
    for kind in KINDS:
        for row in data.get(kind, []):
            cases.append(
                Case(
                    kind=kind,
                    tool=row["tool"],
                    args=dict(row["args"]),
                    expected={name: Effect(row[name]) for name in POLICIES},
                    technique=row["technique"],
                    note=row["note"],
                )
            )
    return cases
