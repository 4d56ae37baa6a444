"""The host of a URL argument, normalised so that spelling tricks cannot pass an allow-list.

``url_host`` accepts only plain ``http``/``https`` URLs and returns None (which never
matches an allowed host) for anything it cannot vouch for: user info (the classic
``http://allowed.com@evil.com``), whitespace, control characters or backslashes anywhere
(parsers disagree about them), percent-encoded or otherwise invalid host characters, a bad
port. Hosts are lowercased, lose one trailing dot, and non-ASCII labels become IDNA
A-labels; a label that IDNA would *map* to something else (full-width letters, ``ß``) is
refused, because IDNA 2003 (the standard library) and IDNA 2008 (HTTP clients) map such
labels differently, so the host checked might not be the host contacted. IP literals are
compared as written: ``127.1`` or ``0x7f.0.0.1`` are not ``127.0.0.1``, so they do not pass.
"""

from __future__ import annotations

import ipaddress
import re
from encodings import idna
from urllib.parse import urlsplit

WEB_SCHEMES = ("http", "https")
_ASCII_LABEL = re.compile(r"[a-z0-9_-]+")
# Dots that IDNA treats as label separators; refused rather than interpreted.
_UNICODE_DOTS = frozenset("\u3002\uff0e\uff61")


def url_host(url: str) -> str | None:
    """The normalised host of an http(s) URL, or None when the URL is unusable or suspicious."""
    if any(char.isspace() or not char.isprintable() or char == "\\" for char in url):
        return None
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or "@" in parts.netloc or not parts.hostname:
        return None
    return normalise_host(parts.hostname)


def normalise_host(host: str) -> str | None:
    """Lowercase, one trailing dot removed, IDNA A-labels; None when not a plain host name."""
    host = host.lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host).compressed
        except ValueError:
            return None
    host = host.removesuffix(".")
    if not host or any(char in _UNICODE_DOTS for char in host):
        return None
    labels = [_ascii_label(label) for label in host.split(".")]
    if any(label is None for label in labels):
        return None
    return ".".join(label for label in labels if label is not None)


def host_matches(host: str, patterns: list[str]) -> bool:
    """``host`` equals a pattern, or is a subdomain of ``example.com`` for ``*.example.com``."""
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def normalise_host_pattern(pattern: str) -> str | None:
    """A policy's host entry: a host name, or ``*.`` followed by one."""
    if pattern.startswith("*."):
        base = normalise_host(pattern[2:])
        return None if base is None else f"*.{base}"
    return normalise_host(pattern)


def _ascii_label(label: str) -> str | None:
    if not label.isascii():
        try:
            encoded = idna.ToASCII(label).decode("ascii")
        except UnicodeError:
            return None
        if idna.ToUnicode(encoded) != label:
            return None
        label = encoded
    return label if _ASCII_LABEL.fullmatch(label) else None
