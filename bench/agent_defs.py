"""The work the benchmark gives Taskcraft: one agent, one no-op tool, an allow-all policy.

It matches the peer benchmark (``shared/bench/peer``): the loopback fake OpenAI server
reads ``conv=<id> steps=<N>`` from the goal and answers N-1 turns with one call of
``noop(i)``, then a final text. ``noop`` returns ``TOOL_BYTES`` of text whose head is its
start time (``<time>|<i>|``), which the fake server records to split a step in two.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from pydantic import BaseModel

from taskcraft.agents import AgentSpec
from taskcraft.tools import Tool, ToolContext

AGENT_NAME = "bench"
POLICY_NAME = "bench-open"
TOOL_BYTES = 2_000
MODEL_REF = "openai:fake-model"


class NoopArgs(BaseModel):
    i: int = 0


async def _noop(args: NoopArgs, context: ToolContext) -> str:
    head = f"{time.time():.6f}|{args.i}|"
    return head + secrets.token_urlsafe(TOOL_BYTES)[: TOOL_BYTES - len(head)]


def noop_tool(*, requires_approval: bool = False) -> Tool[NoopArgs]:
    return Tool(
        name="noop",
        description="A no-op tool: returns 2,000 bytes of text.",
        args_model=NoopArgs,
        run=_noop,
        requires_approval=requires_approval,
    )


def bench_agent(*, continue_as_new_after_steps: int = 500, max_steps: int = 5_000) -> AgentSpec:
    return AgentSpec(
        name=AGENT_NAME,
        instructions="Call noop until told otherwise.",
        model_route=[MODEL_REF],  # type: ignore[list-item]  # the validator takes strings
        tools=["noop"],
        policy=POLICY_NAME,
        max_steps=max_steps,
        continue_as_new_after_steps=continue_as_new_after_steps,
    )


def write_policy(folder: Path) -> Path:
    """An allow-all policy (only a tool's own ``requires_approval`` asks a person)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{POLICY_NAME}.toml").write_text(
        f'name = "{POLICY_NAME}"\ndefault_effect = "allow"\n'
    )
    return folder


def goal(conv: str, steps: int) -> str:
    return f"conv={conv} steps={steps}"
