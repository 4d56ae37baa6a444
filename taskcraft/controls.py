"""Operator requests (pause, resume, message) and what an update answers.

Each is the single argument of a signal, so it can be sent from the Temporal UI as a
plain JSON object, for example ``{"by": "alice", "text": "focus on P1 tickets"}``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from taskcraft.status import TaskStatus


class OperatorRequest(BaseModel):
    by: str = "operator"
    text: str = ""


class ControlAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    MESSAGE = "message"


class ControlRequest(OperatorRequest):
    """The argument of the ``control`` update, which the CLI uses for a definite answer."""

    action: ControlAction


class UpdateOutcome(BaseModel):
    """The definite answer an update gives the CLI or the inbox."""

    applied: bool
    status: TaskStatus
    message: str
    gate_id: str | None = None
