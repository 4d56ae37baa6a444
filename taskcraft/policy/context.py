"""What the policy may know about where a call runs, beyond its arguments.

Pure data the caller hands in (the worker knows its workspace; the engine must not look
it up: it runs inside workflow code, where there is no file system, clock or environment).
A call evaluated without a context is judged as before: every absolute path is outside.
"""

from __future__ import annotations

import posixpath

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError


class PolicyContext(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # The task's workspace as an absolute POSIX path. With it, an absolute path inside the
    # workspace counts as inside (resolved lexically: no file system is consulted).
    workspace_root: str | None = None
    # What the tool declares about its arguments (argument name → kind: "workspace_path",
    # "url", "shell", "sql"), so ``kind`` conditions govern tools a policy never names.
    arg_kinds: dict[str, str] = Field(default_factory=dict)
    # Whether the tool declares that it changes something (rules may say ``writes``).
    writes: bool | None = None

    @field_validator("workspace_root")
    @classmethod
    def _absolute_and_plain(cls, root: str | None) -> str | None:
        if root is None:
            return None
        parts = root.split("/")
        if not root.startswith("/") or ".." in parts or any(not c.isprintable() for c in root):
            raise PydanticCustomError(
                "workspace_root",
                "workspace_root must be an absolute path without '..' or control characters, "
                "not {root!r}",
                {"root": root},
            )
        return posixpath.normpath(root).replace("//", "/")


NO_CONTEXT = PolicyContext()
