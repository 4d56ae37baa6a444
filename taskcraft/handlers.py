"""The names of every task workflow's query, signals and updates, in one place.

They are part of the contract between running tasks and their callers (the CLI, the
inbox, the Python client, the Temporal UI's Send Signal dialog): never rename one.
Callers use these constants, never string literals of their own.
"""

from __future__ import annotations

STATE = "state"  # query → TaskState
DECIDE = "decide"  # signal (Decision)
DECIDE_AND_CONFIRM = "decide_and_confirm"  # update (Decision) → UpdateOutcome
PAUSE = "pause"  # signal (OperatorRequest)
RESUME = "resume"  # signal (OperatorRequest)
MESSAGE = "message"  # signal (OperatorRequest)
CONTROL = "control"  # update (ControlRequest) → UpdateOutcome
