"""Agents are data: what an agent is told, which models it may use, which tools, which limits.

The worker registers agent definitions by name. At the start of a task the
``resolve_agent`` activity pins the definition, the tool specs and the policy into a
``PinnedAgent`` that travels with the task, so editing a definition or a policy file
never changes a task that is already running, and replays see exactly what ran.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from taskcraft.approvals import ApprovalSettings
from taskcraft.budgets import Budgets, ModelPrice
from taskcraft.durations import Seconds
from taskcraft.inputs import InputSpec
from taskcraft.model_ref import ModelRef
from taskcraft.policy import Policy
from taskcraft.schedules import ScheduleDefinition

_AGENT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
DEFAULT_MAX_STEPS = 25
DEFAULT_PARALLEL_TOOL_CALLS = 4
# Steps one workflow run takes before the task continues as new (Temporal may suggest it
# sooner, when the run's history nears its size or event limits).
DEFAULT_CONTINUE_AS_NEW_AFTER_STEPS = 500
# Agents calling agents: how deep a chain may go, how many children one task may start.
DEFAULT_MAX_AGENT_DEPTH = 2
DEFAULT_MAX_CHILD_TASKS = 8


class ToolRetry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    initial_interval_s: float = Field(default=1.0, gt=0)
    backoff_coefficient: float = Field(default=2.0, ge=1)
    maximum_interval_s: float = Field(default=30.0, gt=0)
    maximum_attempts: int = Field(default=3, ge=1)


class AgentTarget(BaseModel):
    """What a ``call_agent_<name>`` tool starts: the agent, its workflow and its inputs."""

    agent: str
    workflow: str = "AgentWorkflow"
    inputs: list[InputSpec] = Field(default_factory=list)


class ToolSpec(BaseModel):
    """What the workflow needs to know about a tool, without importing its code."""

    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments, handed to the model
    timeout_s: float = Field(default=60.0, gt=0)
    retry: ToolRetry = Field(default_factory=ToolRetry)
    requires_approval: bool = False
    # Route the activity to a named task queue (a worker where the resource lives).
    task_queue: str | None = None
    # How much of an observation the model is shown; the rest is summarised as truncated.
    max_observation_chars: int = Field(default=16_000, gt=0)
    # How soon a worker that died mid-call is noticed; None: the runtime's default.
    heartbeat_timeout_s: float | None = Field(default=None, gt=0)
    # "none", "idempotent" or "at_most_once" (taskcraft.tools.SideEffects): how a retry
    # is made safe.
    side_effects: str = "idempotent"
    # For the policy: argument name → kind ("workspace_path", "url", "shell", "sql"), and
    # whether the tool changes anything.
    arg_kinds: dict[str, str] = Field(default_factory=dict)
    writes: bool = False
    # Set for ``call_agent_<name>`` tools: the call runs that agent as a child task
    # instead of an activity (``taskcraft.agent_calls``).
    calls_agent: AgentTarget | None = None


class StepRoute(BaseModel):
    """Per-step model choice: from ``from_step`` on (or on the final turn), use ``route``."""

    model_config = ConfigDict(extra="forbid")

    from_step: int = Field(default=1, ge=1)
    route: list[ModelRef]


class OnConfigError(StrEnum):
    """What a task does when its route is down and a failure is one only an operator can
    fix: an auth failure (401/403), an unknown model (404), a provider not configured."""

    WAIT = "wait"  # RECOVERING, saying what to fix; `taskcraft resume` tries again at once
    FAIL = "fail"  # FAILED at once, with what to fix


class RecoverySettings(BaseModel):
    """How long a task waits in RECOVERING when every model in its route is down.

    The window opens when the first model call of a turn fails; no model call starts
    after it closes, and the task fails when it closes.
    """

    model_config = ConfigDict(extra="forbid")

    initial_delay_s: Seconds = Field(default=30.0, gt=0)
    backoff_coefficient: float = Field(default=2.0, ge=1)
    max_delay_s: Seconds = Field(default=15 * 60.0, gt=0)
    window_s: Seconds = Field(default=6 * 3600.0, gt=0)  # then the task FAILS with the cause
    # A model that failed is tried last, not first, for this long: later steps do not pay
    # its retries again while its provider is down. 0 tries the route in order each time.
    failover_cooldown_s: Seconds = Field(default=300.0, ge=0)
    on_config_error: OnConfigError = OnConfigError.WAIT


class AgentSpec(BaseModel):
    """Everything an agent is. Written as a TOML file (``taskcraft.agent_files``) or in Python."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    instructions: str
    # Empty: the worker's default route (its configured model, else the offline model).
    model_route: list[ModelRef] = Field(default_factory=list)
    step_routes: list[StepRoute] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    max_steps: int = Field(default=DEFAULT_MAX_STEPS, ge=1)
    policy: str = "default"
    budgets: Budgets = Field(default_factory=Budgets)
    approval: ApprovalSettings = Field(default_factory=ApprovalSettings)
    # An explicit gate: hold the final answer for approval before the task completes.
    approve_final_answer: bool = False
    recovery: RecoverySettings = Field(default_factory=RecoverySettings)
    # Which workflow runs this agent (the generic loop, or a purpose-built one).
    workflow: str = "AgentWorkflow"
    # Pinned with the rest of the spec at task start, so a running task keeps its value.
    continue_as_new_after_steps: int = Field(default=DEFAULT_CONTINUE_AS_NEW_AFTER_STEPS, ge=1)
    # How many of one turn's tool calls run at once (their results reach the model in the
    # model's order either way); 1 runs them one after another.
    max_parallel_tool_calls: int = Field(default=DEFAULT_PARALLEL_TOOL_CALLS, ge=1, le=64)
    # What ``taskcraft start --input`` may pass; checked before a task is created.
    inputs: list[InputSpec] = Field(default_factory=list)
    # Agents this one may call, each offered to its model as a tool ``call_agent_<name>``
    # whose task runs as a child (``taskcraft.agent_calls``), and the limits on that.
    agents: list[str] = Field(default_factory=list)
    max_agent_depth: int = Field(default=DEFAULT_MAX_AGENT_DEPTH, ge=1, le=10)
    max_child_tasks: int = Field(default=DEFAULT_MAX_CHILD_TASKS, ge=0)
    # Schedules declared with the agent (``taskcraft schedule apply`` creates them).
    schedules: list[ScheduleDefinition] = Field(default_factory=list)
    # Where the definition came from (a file, or python:module), for people reading it.
    source: str = ""

    @field_validator("name")
    @classmethod
    def _name_shape(cls, name: str) -> str:
        if not _AGENT_NAME.match(name):
            raise ValueError(
                f"agent name {name!r} must start with a letter and use lower-case letters, "
                "digits and '-' (it is part of task ids and search attributes)"
            )
        return name

    @model_validator(mode="after")
    def _unique_inputs(self) -> AgentSpec:
        names = [spec.name for spec in self.inputs]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"inputs declared twice: {', '.join(repeated)}")
        for schedule in self.schedules:
            if schedule.agent and schedule.agent != self.name:
                raise ValueError(
                    f"schedule {schedule.name!r} is declared with agent {self.name!r}, "
                    f"so it cannot start agent {schedule.agent!r}"
                )
            schedule.agent = self.name
        return self

    @field_validator("model_route", mode="before")
    @classmethod
    def _route_from_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"ref": item} if isinstance(item, str) else item for item in value]
        return value

    def route_for_step(self, step: int) -> list[ModelRef]:
        chosen = self.model_route
        for step_route in sorted(self.step_routes, key=lambda r: r.from_step):
            if step >= step_route.from_step:
                chosen = step_route.route
        return chosen


class PinnedAgent(BaseModel):
    """An agent definition frozen at task start, with everything the workflow consults."""

    model_config = ConfigDict(extra="forbid")

    spec: AgentSpec
    tools: list[ToolSpec]
    policy: Policy
    policy_hash: str
    prices: dict[str, ModelPrice] = Field(default_factory=dict)
    # Provider → the task queue its model calls are routed to (a rate-limited queue served
    # by a dedicated worker); filled from the pinning worker's configuration, so the
    # workflow's choice is recorded in history. Providers not listed use the task's queue.
    model_queues: dict[str, str] = Field(default_factory=dict)
    # The pinning worker's workspace (absolute): the policy judges paths against it.
    workspace_root: str | None = None
    # A child task's ancestors' policies, nearest first: every call is judged by these
    # too, and the strictest effect wins (``taskcraft.agent_calls``).
    policy_caps: list[Policy] = Field(default_factory=list)

    def tool(self, name: str) -> ToolSpec | None:
        return next((tool for tool in self.tools if tool.name == name), None)
