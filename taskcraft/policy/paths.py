"""Deciding, from the text alone, whether a path argument stays inside the workspace.

The check is lexical on purpose: it runs inside workflow code, where the file system is
out of reach. A path is *outside* when it is absolute, starts with ``~``, names a drive,
contains a ``..`` component anywhere, a NUL byte or a backslash, or does any of that once
percent-decoded or NFKC-normalised. Any ``..`` counts, not only one that climbs above the
root, because ``link/..`` leaves the workspace when ``link`` is a symlink to elsewhere.

What a lexical check cannot see (a symlink inside the workspace that points out of it)
is the tool's job: it must resolve the real path and refuse one outside the workspace.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from urllib.parse import unquote

_DRIVE = re.compile(r"^[A-Za-z]:")
# Enough rounds to undo double and triple encoding (%252e%252e); more is never legitimate.
_MAX_DECODING_ROUNDS = 4


def is_outside_workspace(path: str) -> bool:
    """True when ``path`` might name something outside the workspace (see the module doc)."""
    return any(_lexically_outside(form) for form in _spellings(path))


def workspace_relative(path: str) -> str | None:
    """The normalised workspace-relative form of ``path`` ("." for the root), or None if outside."""
    if is_outside_workspace(path):
        return None
    return posixpath.normpath(path) if path else "."


def _spellings(path: str) -> list[str]:
    """``path`` as written, percent-decoded round by round, and NFKC-normalised."""
    forms = [path]
    for _ in range(_MAX_DECODING_ROUNDS):
        decoded = unquote(forms[-1])
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    forms.extend(unicodedata.normalize("NFKC", form) for form in list(forms))
    return forms


def _lexically_outside(path: str) -> bool:
    if "\x00" in path or "\\" in path:
        return True
    if path.startswith(("/", "~")) or _DRIVE.match(path):
        return True
    return ".." in path.split("/")
