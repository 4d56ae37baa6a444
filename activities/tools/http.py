"""``http_get``: fetch a web page for the model, bounded in size, time and scheme.

Redirects are followed by hand so that every hop is checked: an ``http`` page must not be
able to bounce the worker to ``file:`` or ``ftp:``. A 4xx is an answer the model should
read, so it comes back as a result; a 5xx or a dropped connection is the server's
trouble, so it raises a plain exception and Temporal retries under the tool's policy.

The worker's own machine and network are out of reach. The policy refuses private hosts
it can recognise from the text (``127.1``, ``[::ffff:127.0.0.1]``, ``metadata.internal``)
but cannot resolve names; so before every hop this tool resolves the host (the event
loop's ``getaddrinfo``, or the resolver it was built with) and refuses, with a
``ToolError`` the model reads, a host that is loopback, private, link-local, shared,
reserved or a cloud metadata service, by name or by any address it resolves to. The
only exception is a host listed in ``private_hosts`` when the tool is built: the worker
lists there the hosts its policy names explicitly (an exact ``host_in`` entry; see
``PolicyDecision.named_hosts``), and nothing else.

What this cannot stop: a name that resolves to a public address here and to a private
one when the HTTP client resolves it again a moment later (DNS rebinding). Closing that
needs the connection pinned to the checked address, which is not done here.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

import httpx
from pydantic import BaseModel, Field

from taskcraft.policy import urls
from taskcraft.tools import SideEffects, Tool, ToolContext, ToolError

HTTP_TIMEOUT_S = 30.0
MAX_REDIRECTS = 5
MAX_RESPONSE_BYTES = 1_000_000
ALLOWED_SCHEMES = frozenset({"http", "https"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# (host, port) -> the addresses it resolves to, as strings.
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve_with_loop(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, through the event loop's ``getaddrinfo``."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class HttpServerError(Exception):
    """A 5xx answer: transient, so Temporal retries it; carries the server's Retry-After."""

    def __init__(self, url: str, status: int, retry_after: str | None) -> None:
        super().__init__(f"GET {url} answered {status}")
        self.status = status
        self.retry_after = retry_after


class HttpGetArgs(BaseModel):
    url: str = Field(description="Absolute http:// or https:// URL to fetch.")
    max_bytes: int = Field(
        default=100_000,
        ge=1,
        le=MAX_RESPONSE_BYTES,
        description="Most bytes of the body to read; the rest is cut off.",
    )


class HttpGetResult(BaseModel):
    url: str = Field(description="The final URL, after redirects.")
    status: int
    content_type: str
    text: str = Field(description="The body read, decoded with its charset (UTF-8 default).")
    bytes_read: int
    truncated: bool = Field(description="True when the body continued past max_bytes.")


def _checked_url(raw: str | httpx.URL) -> httpx.URL:
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL as error:
        raise ToolError(f"{raw!s} is not a valid URL: {error}.") from error
    if url.scheme not in ALLOWED_SCHEMES or not url.host:
        raise ToolError(f"Only absolute http and https URLs may be fetched, not {str(url)!r}.")
    return url


async def _read_body(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    """At most ``max_bytes`` of the (decompressed) body; stops the download there."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            return bytes(body[:max_bytes]), True
    return bytes(body), False


def _decode(data: bytes, charset: str | None) -> str:
    try:
        return data.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return data.decode("utf-8", errors="replace")


async def _refuse_private(url: httpx.URL, resolve: Resolver, listed: frozenset[str]) -> None:
    """A ``ToolError`` when the host may be on the worker's own machine or network."""
    host = url.host.lower().removesuffix(".")
    if host in listed:
        return
    refusal = (
        "; http_get reaches the worker's own machine or network only for hosts the worker lists."
    )
    why = urls.private_host(host)
    if why:
        raise ToolError(f"Refused {host}: {why}{refusal}")
    port = url.port or (443 if url.scheme == "https" else 80)
    addresses = await resolve(host, port)  # a resolver failure propagates: Temporal retries
    if not addresses:
        raise ToolError(f"{host} does not resolve to any address.")
    for address in addresses:
        try:
            parsed = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            raise ToolError(f"{host} resolves to {address!r}, which is not an address.") from None
        why = urls.address_is_private(parsed)
        if why:
            raise ToolError(f"Refused {host}: it resolves to {why}{refusal}")


async def _get(
    client: httpx.AsyncClient, args: HttpGetArgs, resolve: Resolver, listed: frozenset[str]
) -> HttpGetResult:
    url = _checked_url(args.url)
    for _ in range(MAX_REDIRECTS + 1):
        await _refuse_private(url, resolve, listed)
        request = client.build_request("GET", url, timeout=HTTP_TIMEOUT_S)
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            location = response.headers.get("location")
            if response.status_code in REDIRECT_STATUSES and location:
                url = _checked_url(response.url.join(location))
                continue
            if response.status_code >= 500:
                raise HttpServerError(
                    str(url), response.status_code, response.headers.get("retry-after")
                )
            body, truncated = await _read_body(response, args.max_bytes)
        finally:
            await response.aclose()
        return HttpGetResult(
            url=str(response.url),
            status=response.status_code,
            content_type=response.headers.get("content-type", ""),
            text=_decode(body, response.charset_encoding),
            bytes_read=len(body),
            truncated=truncated,
        )
    raise ToolError(f"{args.url} redirected more than {MAX_REDIRECTS} times; giving up.")


def http_get_tool(
    *, resolve: Resolver = resolve_with_loop, private_hosts: Iterable[str] = ()
) -> Tool[HttpGetArgs]:
    """The tool; ``private_hosts`` may resolve to private addresses (see the module doc)."""
    listed = frozenset(host.lower().removesuffix(".").strip("[]") for host in private_hosts)

    async def run(args: HttpGetArgs, context: ToolContext) -> HttpGetResult:
        # One deadline for every hop: a slow server cannot stretch the call per redirect.
        async with asyncio.timeout(HTTP_TIMEOUT_S):
            return await _get(context.http, args, resolve, listed | context.allowed_hosts)

    return Tool(
        name="http_get",
        arg_kinds={"url": "url"},
        side_effects=SideEffects.NONE,
        description="Fetch a URL with GET and return the status and the start of the body.",
        args_model=HttpGetArgs,
        run=run,
        timeout_s=HTTP_TIMEOUT_S + 15,
    )
