"""Every error a Taskcraft user can meet, in one tree.

Everything raised on purpose is a ``TaskcraftError`` whose message is one full sentence
meant for a person, so the CLI, the inbox and a worker at start turn any of them into a
single ``Error: ...`` line (never a traceback)::

    TaskcraftError                      base of everything raised on purpose
    ├── ConfigError                     bad or missing configuration (names the variable or key)
    │   ├── InvalidModelRefError        a model reference that is not provider:model
    │   ├── PolicyFileError             a policy file that does not parse or validate
    │   ├── AgentFileError              an agent file or folder with problems (lists them)
    │   ├── ToolDefinitionError         a @tool whose signature or settings cannot work
    │   ├── McpMissingVariableError     an MCP server config names an unset ${VAR}
    │   ├── CodecKeysError              encrypted payloads, and no key in this process
    │   ├── CodecConfigError            encryption settings (env or key file) are invalid
    │   └── PayloadDecryptionError      a payload whose key is missing, or that was altered
    ├── UnknownAgentError               no agent registered under that name
    ├── UnknownTaskError                no task with that id
    ├── UnknownScheduleError            no schedule with that name
    ├── InvalidInputError               bad input to the CLI, the client or a decision
    │   ├── TaskExistsError             a task with that id exists already (ids are never reused)
    │   ├── ScheduleExistsError         a schedule with that name exists already
    │   └── DecisionRefusedError        the task refused a decision or control
    ├── TemporalUnavailableError        the Temporal server cannot be reached
    │   └── WorkerUnavailableError      no worker polls the task's queue
    ├── LinkError                       an approval link the inbox cannot use
    │   ├── LinkInvalidError            altered, or signed with another secret
    │   └── LinkExpiredError            past its expiry
    ├── ReplayError                     this code cannot rebuild a closed task from its history
    ├── BlobMissingError                a stored conversation or payload is not in the store
    ├── McpUnavailableError             an MCP server cannot be started or reached (retried)
    │   └── McpCallTimeoutError         an MCP tool call got no answer in time
    ├── ToolError                       raised by a tool: the model sees the message, no retry
    │   └── NotDelivered                an at-most-once tool's effect certainly did not happen
    └── TaskFailedError                 raised in workflow code: ends the task FAILED

Some modules keep private exceptions for their own control flow (argument parsing of a
tool call, SQL and shell parsing in the policy, the inbox's login redirect, MCP session
expiry, TOML problems before they become an ``AgentFileError``); none of them leaves its
module. ``tests/unit/test_error_tree.py`` holds this docstring and that list to the code.

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


class LinkError(TaskcraftError):
    """Why an approval link cannot be used; the inbox shows the message on the page."""


class LinkInvalidError(LinkError):
    pass


class LinkExpiredError(LinkError):
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


class CodecConfigError(ConfigError):
    """The encryption settings (environment or key file) are invalid."""


class PayloadDecryptionError(ConfigError):
    """An encrypted payload cannot be decrypted: its key is missing, or it was altered."""


class ReplayError(TaskcraftError):
    """This process's workflow code cannot rebuild the task from its history."""


class BlobMissingError(TaskcraftError, LookupError):
    """A reference points at content the store does not have (a wrong data dir, usually)."""


class McpUnavailableError(TaskcraftError):
    """The server cannot be started or reached, died, or did not answer in time.

    Transient by nature: the tool activity lets Temporal retry it, and the next attempt
    reconnects. ``reason`` is one line, safe to log (no resolved secrets).
    """

    def __init__(self, server: str, reason: str) -> None:
        super().__init__(f"MCP server {server!r} is unavailable: {reason}")
        self.server = server
        self.reason = reason

    def __reduce__(self) -> tuple[type[McpUnavailableError], tuple[str, str]]:
        return (type(self), (self.server, self.reason))


class McpCallTimeoutError(McpUnavailableError):
    """A tool call got no answer within its timeout; the server may still be working on it."""


class McpMissingVariableError(ConfigError):
    """A ``${VAR}`` in a server's configuration names a variable the worker does not have."""

    def __init__(self, server: str, variable: str, field: str) -> None:
        super().__init__(
            f"MCP server {server!r} needs the environment variable {variable} (in {field}), "
            "which is not set on this worker; set it where the worker runs"
        )
        self.server = server
        self.variable = variable
        self.field = field

    def __reduce__(self) -> tuple[type[McpMissingVariableError], tuple[str, str, str]]:
        return (type(self), (self.server, self.variable, self.field))


class ToolError(TaskcraftError):
    """Raised by a tool: a failure the model should see as the observation; not retried."""


class NotDelivered(ToolError):
    """An at-most-once tool's effect certainly did not happen (say, connection refused)."""


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
