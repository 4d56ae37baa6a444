"""Masking secrets in values before they reach logs, events or error messages.

``redact`` walks dicts, lists and tuples and returns a copy in which

* the value of any key named like a secret (``password``, ``token``, ``api_key``,
  ``Authorization``, ``Cookie``, ``client_secret``... matched on the words of the key, so
  ``max_tokens`` is left alone) is replaced whole, and
* inside every string, things that look like credentials are replaced: bearer tokens,
  ``sk-...`` keys, Slack ``xox?-`` tokens, GitHub tokens, AWS access key ids, JWTs,
  private key blocks, ``user:password@`` in URLs, and ``key=value`` pairs for secret keys.

Pure and deterministic; other values are returned unchanged.
"""

from __future__ import annotations

import itertools
import re
from typing import Any, TypeVar, cast

MASK = "[REDACTED]"
T = TypeVar("T")

# Words that make any key secret, wherever they appear in it.
_SECRET_ANYWHERE = frozenset(
    {"password", "passwd", "passphrase", "secret", "credential", "credentials", "authorization",
     "cookie", "privatekey", "apikey"}
)  # fmt: skip
# Words that make a key secret when they end it: ``auth_token`` yes, ``token_count`` no.
_SECRET_AT_END = frozenset({"token", "auth", "pwd", "signature", "sessionid"})
_SECRET_PAIRS = frozenset(
    {("api", "key"), ("private", "key"), ("access", "key"), ("session", "id")}
)
_KEY_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_SECRET_KEY_TEXT = (
    r"(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?token|auth[_-]?token"
    r"|client[_-]?secret|private[_-]?key)"
)
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
        ),
        MASK,
    ),
    (re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{MASK}"),
    (re.compile(r"\bsk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_-]{16,}"), MASK),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), MASK),
    (re.compile(r"\bxapp-[A-Za-z0-9-]{10,}"), MASK),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), MASK),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,30}://[^/\s:@]*):[^/\s@]*@"), rf"\1:{MASK}@"),
    (
        re.compile(rf"(?i)((?<![a-z0-9]){_SECRET_KEY_TEXT}[\"']?\s*[=:]\s*[\"']?)[^\s&\"',;]+"),
        rf"\1{MASK}",
    ),
]


def redact(value: T) -> T:
    """A copy of ``value`` with secrets masked (see the module doc)."""
    return cast(T, _redact(value))


def redact_text(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def is_secret_key(key: str) -> bool:
    """True for keys like ``password``, ``X-Api-Key``, ``githubToken``, ``client_secret``."""
    words = [word.lower() for word in _KEY_WORD.findall(key)]
    if not words:
        return False
    if "".join(words) in _SECRET_ANYWHERE | _SECRET_AT_END or words[-1] in _SECRET_AT_END:
        return True
    if any(word in _SECRET_ANYWHERE for word in words):
        return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words))


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: _masked(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_redact(item) for item in value)
    return value


def _masked(key: Any, value: Any) -> Any:
    if isinstance(key, str) and is_secret_key(key) and value not in (None, ""):
        return MASK
    return _redact(value)
