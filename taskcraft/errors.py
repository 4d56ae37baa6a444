"""Taskcraft's exceptions, in one place.

    TaskcraftError                  base of everything raised on purpose
    ├── ConfigError                 bad or missing configuration (names the variable or key)
    │   ├── InvalidModelRefError    a model reference that is not provider:model
    │   └── PolicyFileError         a policy file that does not parse or validate
    ├── UnknownAgentError           no agent registered under that name
    ├── UnknownTaskError            no task with that id
    ├── UnknownScheduleError        no schedule with that name
    ├── InvalidInputError           bad user input to the CLI or a decision
    │   └── ScheduleExistsError     a schedule with that name exists already
    └── TemporalUnavailableError    the Temporal server cannot be reached

Failures that cross the activity boundary are Temporal ``ApplicationError``s whose
``type`` is one of the ``ErrorType`` names below, so the workflow can react to the kind
of failure (fail over, retry, report) without importing adapter code.
"""

from __future__ import annotations

from enum import StrEnum


class TaskcraftError(Exception):
    """Base class; its message is shown to users as-is, so make it a full sentence."""


class ConfigError(TaskcraftError):
    pass


class InvalidModelRefError(ConfigError):
    pass


class PolicyFileError(ConfigError):
    pass


class AgentFileError(ConfigError):
    """An agent file or folder with problems; ``problems`` lists each as ``file:line: message``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        more = len(self.problems) - 1
        first = self.problems[0] if self.problems else "invalid agent file"
        super().__init__(
            first + (f" (and {more} more: `taskcraft agents check` lists them)" if more else "")
        )


class ToolDefinitionError(ConfigError):
    """A tool whose signature, name or settings cannot work (raised at import)."""


class UnknownAgentError(TaskcraftError):
    pass


class UnknownTaskError(TaskcraftError):
    pass


class InvalidInputError(TaskcraftError):
    pass


class UnknownScheduleError(TaskcraftError):
    pass


class ScheduleExistsError(InvalidInputError):
    """``schedule create`` of a name in use (``schedule apply`` updates instead)."""


class TemporalUnavailableError(TaskcraftError):
    pass


class WorkerUnavailableError(TemporalUnavailableError):
    """No worker polls the task's queue (or none answered): nothing can run or reply."""


class TaskExistsError(InvalidInputError):
    """A task with that id exists already (running or closed): ids are never reused."""


class DecisionRefusedError(InvalidInputError):
    """The task refused a decision or control (no gate pending, not an approver, ...)."""


class CodecKeysError(ConfigError):
    """A task's payloads are encrypted and this process has no key to read them."""


class TaskFailedError(TaskcraftError):
    """Raised inside workflow code: ends the task FAILED with this message as its error."""


class ErrorType(StrEnum):
    """``ApplicationError.type`` values raised by activities."""

    # Retryable: Temporal backs off and tries again (honouring Retry-After).
    MODEL_RATE_LIMITED = "ModelRateLimited"
    MODEL_UNAVAILABLE = "ModelUnavailable"
    MODEL_TIMEOUT = "ModelTimeout"
    MODEL_MALFORMED_RESPONSE = "ModelMalformedResponse"
    # Non-retryable, provider-side: the route fails over to its next model.
    MODEL_AUTH = "ModelAuthFailed"
    MODEL_NOT_FOUND = "ModelNotFound"
    MODEL_NOT_CONFIGURED = "ModelNotConfigured"
    # Non-retryable, request-side: another provider would refuse it too.
    MODEL_BAD_REQUEST = "ModelBadRequest"
    MODEL_CONTEXT_LENGTH = "ModelContextLength"
    # Tools.
    TOOL_FAILED = "ToolFailed"
    TOOL_POLICY_DENIED = "ToolPolicyDenied"
    TOOL_UNKNOWN = "ToolUnknown"
    # An at-most-once tool's effect certainly did not happen: safe to try again.
    TOOL_NOT_DELIVERED = "ToolNotDelivered"
    # What serves the tool (an MCP server) cannot be reached right now: retried.
    TOOL_UNAVAILABLE = "ToolUnavailable"
    # Set-up.
    AGENT_UNKNOWN = "AgentUnknown"
    CONFIG = "ConfigError"


# Failures after which trying the next model in the route makes sense.
FAILOVER_ERROR_TYPES = frozenset(
    {
        ErrorType.MODEL_RATE_LIMITED,
        ErrorType.MODEL_UNAVAILABLE,
        ErrorType.MODEL_TIMEOUT,
        ErrorType.MODEL_MALFORMED_RESPONSE,
        ErrorType.MODEL_AUTH,
        ErrorType.MODEL_NOT_FOUND,
        ErrorType.MODEL_NOT_CONFIGURED,
    }
)
