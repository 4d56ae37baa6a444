"""Deciding, from the text alone, whether a path argument stays inside the workspace.

The check is lexical on purpose: it runs inside workflow code, where the file system is
out of reach. A path is *outside* when it

* is absolute, unless a workspace root is known (``PolicyContext``) and the path,
  normalised lexically, is that root or below it;
* starts with ``~``, names a drive, or contains a backslash;
* contains a ``..`` component anywhere, not only one that climbs above the root,
  because ``link/..`` leaves the workspace when ``link`` is a symlink to elsewhere;
* contains ``$`` or a backtick (a shell or a template may expand it), a NUL or any
  other control character, an invisible formatting character, or a character that
  only looks like a dot or a slash (full-width and other look-alikes);
* carries an invalid encoding: percent-encoded dots, slashes, backslashes, percent
  signs or bytes above 0x7f (overlong UTF-8 such as ``%c0%ae``), or replacement or
  surrogate characters left behind by broken UTF-8;
* or does any of that once percent-decoded or NFKC-normalised.

What a lexical check cannot see (a symlink inside the workspace that points out of it)
is the tool's job: it must resolve the real path and refuse one outside the workspace.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from functools import lru_cache
from urllib.parse import unquote

_DRIVE = re.compile(r"^[A-Za-z]:")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
# Decoded, these would change how the path is split or read: refuse them encoded.
_ENCODED_MEANINGFUL = frozenset(b"./\\%~$")
# Characters that render as a dot or a slash without being one (NFKC maps only some).
_LOOK_ALIKES = frozenset(
    "\u2024\u2025\u2026\u2e33\u3002\ufe52\uff0e\uff61"  # dots
    "\u2044\u2215\u2571\u29f8\uff0f\u2216\u29f5\u29f9\ufe68\uff3c"  # slashes, backslashes
)
# Enough rounds to undo double and triple encoding (%252e%252e); more is never legitimate.
_MAX_DECODING_ROUNDS = 4


def is_outside_workspace(path: str, root: str | None = None) -> bool:
    """True when ``path`` might name something outside the workspace (see the module doc)."""
    return why_outside(path, root) is not None


@lru_cache(maxsize=4096)  # pure; the same path is asked about by several checks
def why_outside(path: str, root: str | None = None) -> str | None:
    """Why ``path`` may leave the workspace, or None when it stays inside."""
    for form in _spellings(path):
        why = _suspicious(form) or _lexically_outside(form, root)
        if why:
            return why if form == path else f"{why} (once decoded)"
    return None


def workspace_relative(path: str, root: str | None = None) -> str | None:
    """The normalised workspace-relative form of ``path`` ("." for the root), or None if outside."""
    if is_outside_workspace(path, root):
        return None
    if root is not None and path.startswith("/"):
        path = posixpath.relpath(_normal(path), root)
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


def _suspicious(path: str) -> str | None:
    for match in _PERCENT.finditer(path):
        byte = int(match.group(1), 16)
        if byte in _ENCODED_MEANINGFUL or byte >= 0x80 or byte < 0x20:
            return f"percent-encoded {match.group(0)!r} (an encoded separator or invalid UTF-8)"
    for char in path:
        if char in "$`":
            return f"{char!r} may be expanded to anything by a shell or template"
        if char in _LOOK_ALIKES:
            return f"{char!r} only looks like a dot or a slash"
        if char == "\ufffd" or "\ud800" <= char <= "\udfff":
            return "invalid (overlong or broken) UTF-8"
        category = unicodedata.category(char)
        if category == "Cc":
            return "a NUL or other control character"
        if category == "Cf":
            return f"an invisible character (U+{ord(char):04X})"
    return None


def _lexically_outside(path: str, root: str | None) -> str | None:
    if "\\" in path:
        return "a backslash (a Windows separator to some tools)"
    if path.startswith("~"):
        return "starts with '~' (a home directory)"
    if _DRIVE.match(path):
        return "names a drive"
    if ".." in path.split("/"):
        return "contains '..'"
    if path.startswith("/"):
        if root is None:
            return "absolute, and no workspace root is known"
        normal = _normal(path)
        if normal != root and not normal.startswith(root.rstrip("/") + "/"):
            return f"absolute, outside the workspace {root}"
    return None


def _normal(path: str) -> str:
    return re.sub("/+", "/", posixpath.normpath(path))
