"""The typed shape of a policy file."""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Effect(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    REQUIRE_APPROVAL = "require_approval"


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    tool: str  # exact name or glob
    effect: Effect
    reason: str = ""
    approvers: list[str] = Field(default_factory=list)


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "default"
    default_effect: Effect = Effect.ALLOW
    default_reason: str = ""
    rules: list[Rule] = Field(default_factory=list)

    def content_hash(self) -> str:
        """sha256 of the canonical JSON form: what a task is pinned to."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class PolicyDecision(BaseModel):
    effect: Effect
    rule_id: str  # "default" when no rule matched
    reason: str = ""
    approvers: list[str] = Field(default_factory=list)
