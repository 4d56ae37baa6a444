"""The typed shape of a policy: rules matched by tool name and argument conditions.

A policy is an ordered list of rules; the first rule whose ``tool`` glob matches the tool
name and whose ``when`` conditions all hold decides the call. When none does, the
policy's ``default_effect`` applies (``deny`` makes a default-deny policy).
"""

from __future__ import annotations

import hashlib
import json
import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from taskcraft.policy.conditions import Condition
from taskcraft.policy.view import CallView

DEFAULT_RULE_ID = "default"  # the rule_id of a decision no rule made
_RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


class Effect(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    REQUIRE_APPROVAL = "require_approval"


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    tool: str = Field(min_length=1)  # exact name or glob (fnmatch, case-sensitive)
    effect: Effect
    reason: str = ""  # told to the agent and the approver
    approvers: list[str] = Field(default_factory=list)  # require_approval only; empty: anyone
    when: list[Condition] = Field(default_factory=list)  # all must hold
    # Only for tools that declare they change something (true) or that they do not (false).
    writes: bool | None = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, rule_id: str) -> str:
        if not _RULE_ID.fullmatch(rule_id):
            raise PydanticCustomError(
                "rule_id", "rule ids are letters, digits and - _ . : (got '{id}')", {"id": rule_id}
            )
        if rule_id == DEFAULT_RULE_ID:
            raise PydanticCustomError(
                "rule_id", "'default' is reserved for decisions no rule made; pick another id"
            )
        return rule_id

    @field_validator("when", mode="before")
    @classmethod
    def _one_condition_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _approvers_need_approval(self) -> Rule:
        if self.approvers and self.effect is not Effect.REQUIRE_APPROVAL:
            raise PydanticCustomError(
                "approvers", "approvers only apply to rules whose effect is require_approval"
            )
        return self


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="default", min_length=1)
    description: str = ""
    default_effect: Effect = Effect.ALLOW
    default_reason: str = ""
    rules: list[Rule] = Field(default_factory=list)

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[Rule]) -> list[Rule]:
        first_index: dict[str, int] = {}
        for index, rule in enumerate(rules):
            if rule.id in first_index:
                raise PydanticCustomError(
                    "duplicate_rule_id",
                    "rule id '{id}' is used by rules[{first}] and rules[{again}]; ids must be unique",
                    {"id": rule.id, "first": first_index[rule.id], "again": index},
                )
            first_index[rule.id] = index
        return rules

    def content_hash(self) -> str:
        """sha256 of the canonical JSON form: what a task is pinned to."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class PolicyDecision(BaseModel):
    effect: Effect
    rule_id: str  # "default" when no rule matched
    reason: str = ""
    approvers: list[str] = Field(default_factory=list)
    detail: str = ""  # what the rule's conditions found, e.g. "command: rm ... deletes trees"
    # What the policy understood of the call, for the person asked to approve it
    # (render with ``render_call_view``). Defaults keep older stored decisions decodable.
    view: CallView = Field(default_factory=CallView)
    # Hosts of this call the deciding rule lists exactly (not through a wildcard): the
    # only hosts the http tool may reach when they resolve to private addresses.
    named_hosts: list[str] = Field(default_factory=list)
