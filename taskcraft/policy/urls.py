"""The host of a URL argument, normalised so that spelling tricks cannot pass an allow-list.

``url_host`` accepts only plain ``http``/``https`` URLs and returns None (which never
matches an allowed host) for anything it cannot vouch for: user info (the classic
``http://allowed.com@evil.com``), whitespace, control characters or backslashes anywhere
(parsers disagree about them), percent-encoded or otherwise invalid host characters, a bad
port. Hosts are lowercased, lose one trailing dot, and non-ASCII labels become IDNA
A-labels; a label that IDNA would *map* to something else (full-width letters, ``ß``) is
refused, because IDNA 2003 (the standard library) and IDNA 2008 (HTTP clients) map such
labels differently, so the host checked might not be the host contacted. IPv4 literals must
be written as four decimal numbers: ``127.1``, ``2130706433`` or ``0x7f.0.0.1`` (which the
system resolver reads as ``127.0.0.1``) make the URL unusable, so they never pass a list.

``private_host`` says why a host may be on the worker's own machine or network: loopback,
private, link-local (cloud metadata lives at ``169.254.169.254``), shared, reserved or
multicast addresses in every spelling (IPv4-mapped, NAT64, 6to4 and Teredo IPv6 included),
single-label names (``localhost``, ``metadata``, anything a search domain completes),
internal suffixes (``.internal``, ``.local``, ``.localhost``...), names that embed a
private address (``127.0.0.1.nip.io``, ``10-0-0-1.sslip.io``) and public names known to
resolve to loopback. The policy cannot resolve names (no I/O in workflow code); the
``http_get`` tool checks what a name really resolves to before connecting.
A wildcard entry (``*.example.com``) never matches such a host: only an exact entry does.
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
_NUMBER = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)
_DASHED_IPV4 = re.compile(r"(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})")
_HEX_IPV4 = re.compile(r"[0-9a-f]{8}")
# Cloud metadata services outside the non-global ranges.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("168.63.129.16"), ipaddress.ip_address("fd00:ec2::254")}
)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_INTERNAL_SUFFIXES = (
    ".localhost", ".localdomain", ".local", ".internal", ".intranet", ".lan", ".home",
    ".home.arpa", ".corp", ".private", ".svc", ".cluster.local", ".in-addr.arpa", ".ip6.arpa",
)  # fmt: skip
# Public names that resolve to loopback, and services that answer any embedded address.
_LOOPBACK_DOMAINS = ("localtest.me", "lvh.me", "vcap.me", "lacolhost.com", "fuf.me")
_ECHO_DOMAINS = ("nip.io", "sslip.io", "xip.io", "traefik.me", "rbndr.us", "1u.ms")


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


def split_host(url: str) -> str | None:
    """The host part of ``url`` as written (lowercased), even when ``url_host`` refuses it."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.removesuffix(".") if host else None


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
    loose = loose_ipv4(host)
    if loose is not None:  # only the plain dotted form is a usable literal
        return host if str(loose) == host else None
    if host.rsplit(".", 1)[-1].isdigit():
        return None  # a numeric last label makes browsers and resolvers read an address
    labels = [_ascii_label(label) for label in host.split(".")]
    if any(label is None for label in labels):
        return None
    return ".".join(label for label in labels if label is not None)


def host_matches(host: str, patterns: list[str]) -> bool:
    """``host`` equals a pattern, or is a subdomain of ``example.com`` for ``*.example.com``.

    A host that may be private (``private_host``) matches exact entries only.
    """
    private = private_host(host) is not None
    for pattern in patterns:
        if pattern.startswith("*."):
            if private:
                continue
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


def loose_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``host`` read as the C library's ``inet_aton`` does: 1-4 parts, decimal, octal or hex."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMBER.fullmatch(part) for part in parts):
        return None
    try:
        numbers = [
            int(p, 16)
            if p.lower().startswith("0x")
            else int(p, 8 if p[0] == "0" and len(p) > 1 else 10)
            for p in parts
        ]
    except ValueError:  # "0x" alone, or an 8 or 9 in an octal part
        return None
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for shift, number in enumerate(reversed(leading)):
        value |= number << (8 * (3 - len(leading) + 1 + shift))
    return ipaddress.IPv4Address(value)


def address_is_private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address is not a public Internet address, or None."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is None and any(address in net for net in _NAT64):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and int(address) >> 32 == 0 and int(address) > 1:
            embedded = ipaddress.IPv4Address(int(address))  # IPv4-compatible ::a.b.c.d
        if embedded is not None:
            why = address_is_private(embedded)
            return f"{why} (embedded in {address})" if why else None
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata service"
    if address.is_loopback:
        return f"{address} is a loopback address"
    if address.is_link_local:
        return f"{address} is link-local (where cloud metadata services live)"
    if address.is_multicast:
        return f"{address} is a multicast address"
    if not address.is_global:
        return f"{address} is a private, shared or reserved address"
    return None


def private_host(host: str) -> str | None:
    """Why a (normalised) host may be on the worker's machine or network, or None."""
    host = host.lower().removesuffix(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        literal: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = loose_ipv4(host)
    if literal is not None:
        return address_is_private(literal)
    if "." not in host:
        return f"{host!r} is a single-label name, resolved on the worker's own network"
    if host.endswith(_INTERNAL_SUFFIXES):
        return f"{host!r} is an internal name"
    if any(host == d or host.endswith("." + d) for d in _LOOPBACK_DOMAINS):
        return f"{host!r} resolves to loopback"
    embedded = _embedded_address(host)
    if embedded is not None:
        return f"{host!r} embeds {embedded}"
    return None


def _embedded_address(host: str) -> str | None:
    labels = host.split(".")
    for start in range(len(labels) - 3):
        dotted = ".".join(labels[start : start + 4])
        address = loose_ipv4(dotted)
        if address is not None and address_is_private(address):
            return str(address)
    echo = any(host.endswith("." + domain) for domain in _ECHO_DOMAINS)
    for label in labels:
        dashed = _DASHED_IPV4.search(label)
        if dashed:
            address = loose_ipv4(".".join(str(int(n)) for n in dashed.groups()))
            if address is not None and address_is_private(address):
                return str(address)
        if echo and _HEX_IPV4.fullmatch(label):
            address = ipaddress.IPv4Address(int(label, 16))
            if address_is_private(address):
                return str(address)
    return None
