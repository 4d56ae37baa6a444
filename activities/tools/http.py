"""``http_get``: fetch a web page for the model, bounded in size, time and scheme.

Redirects are followed by hand so that every hop is checked: an ``http`` page must not be
able to bounce the worker to ``file:`` or ``ftp:``. A 4xx is an answer the model should
read, so it comes back as a result; a 5xx or a dropped connection is the server's
trouble, so it raises a plain exception and Temporal retries under the tool's policy.
"""

from __future__ import annotations

import asyncio

import httpx
from pydantic import BaseModel, Field

from activities.tools.base import Tool, ToolContext, ToolError

HTTP_TIMEOUT_S = 30.0
MAX_REDIRECTS = 5
MAX_RESPONSE_BYTES = 1_000_000
ALLOWED_SCHEMES = frozenset({"http", "https"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


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


async def _get(client: httpx.AsyncClient, args: HttpGetArgs) -> HttpGetResult:
    url = _checked_url(args.url)
    for _ in range(MAX_REDIRECTS + 1):
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


def http_get_tool() -> Tool[HttpGetArgs]:
    async def run(args: HttpGetArgs, context: ToolContext) -> HttpGetResult:
        # One deadline for every hop: a slow server cannot stretch the call per redirect.
        async with asyncio.timeout(HTTP_TIMEOUT_S):
            return await _get(context.http, args)

    return Tool(
        name="http_get",
        description="Fetch a URL with GET and return the status and the start of the body.",
        args_model=HttpGetArgs,
        run=run,
        timeout_s=HTTP_TIMEOUT_S + 15,
    )
