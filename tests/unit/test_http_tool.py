"""``http_get`` against a real loopback server: limits, statuses, redirects, schemes."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from activities.tools import ToolContext, ToolError
from activities.tools.http import HttpGetResult, HttpServerError, http_get_tool
from tests.support.loopback_http import LoopbackHttp, loopback_http


@pytest.fixture
def server() -> Iterator[LoopbackHttp]:
    with loopback_http() as running:
        yield running


@pytest.fixture
async def context(tmp_path: Path) -> AsyncIterator[ToolContext]:
    async with httpx.AsyncClient(trust_env=False) as http:  # no proxy from the environment
        yield ToolContext(
            task_id="task-1",
            step=1,
            call_id="call-1",
            idempotency_key="task-1/1/call-1",
            workspace=tmp_path,
            http=http,
            data_dir=tmp_path / "data",
        )


async def get(context: ToolContext, url: str, **arguments: object) -> HttpGetResult:
    text = await http_get_tool().invoke({"url": url, **arguments}, context)
    return HttpGetResult.model_validate_json(text)


async def test_fetches_a_page(server: LoopbackHttp, context: ToolContext) -> None:
    result = await get(context, server.url("/hello"))
    assert (result.status, result.text, result.bytes_read, result.truncated) == (
        200,
        "hello, world",
        12,
        False,
    )
    assert result.content_type.startswith("text/plain")


async def test_decodes_with_the_declared_charset(
    server: LoopbackHttp, context: ToolContext
) -> None:
    result = await get(context, server.url("/latin1"))
    assert result.text == "café"


async def test_stops_reading_at_max_bytes(server: LoopbackHttp, context: ToolContext) -> None:
    """A 32 MiB body is cut at max_bytes and the download abandoned, not read to the end."""
    result = await get(context, server.url(f"/big?n={32 * 1024 * 1024}"), max_bytes=1000)
    assert (result.bytes_read, len(result.text), result.truncated) == (1000, 1000, True)
    for _ in range(100):  # the server notices the hang-up once its buffers fill
        if server.aborted["/big"]:
            break
        await asyncio.sleep(0.05)
    assert server.aborted["/big"] == 1


async def test_a_body_of_exactly_max_bytes_is_not_truncated(
    server: LoopbackHttp, context: ToolContext
) -> None:
    result = await get(context, server.url("/big?n=1000"), max_bytes=1000)
    assert (result.bytes_read, result.truncated) == (1000, False)


async def test_not_found_is_a_result_the_model_sees(
    server: LoopbackHttp, context: ToolContext
) -> None:
    """A 4xx is an answer, not a failure: no exception, status and body in the result."""
    result = await get(context, server.url("/missing"))
    assert (result.status, result.text) == (404, "no such page")


async def test_server_error_raises_for_temporal_to_retry(
    server: LoopbackHttp, context: ToolContext
) -> None:
    """A 5xx is not a ToolError (those are not retried); it carries the Retry-After."""
    with pytest.raises(HttpServerError) as caught:
        await get(context, server.url("/fail"))
    assert not isinstance(caught.value, ToolError)
    assert (caught.value.status, caught.value.retry_after) == (503, "7")


async def test_connection_refused_raises_for_temporal_to_retry(context: ToolContext) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        await get(context, f"http://127.0.0.1:{port}/")


async def test_follows_http_redirects(server: LoopbackHttp, context: ToolContext) -> None:
    result = await get(context, server.url(f"/redirect?to={server.url('/hello')}"))
    assert (result.status, result.text, result.url) == (200, "hello, world", server.url("/hello"))
    assert server.requests["/hello"] == 1


@pytest.mark.parametrize("target", ["ftp://example.com/file", "file:///etc/passwd"])
async def test_redirect_to_another_scheme_is_refused(
    server: LoopbackHttp, context: ToolContext, target: str
) -> None:
    """Each hop is re-checked, so a page cannot bounce the worker onto file: or ftp:."""
    with pytest.raises(ToolError, match="Only absolute http and https URLs"):
        await get(context, server.url(f"/redirect?to={target}"))


async def test_redirect_loops_stop_after_five_hops(
    server: LoopbackHttp, context: ToolContext
) -> None:
    with pytest.raises(ToolError, match="redirected more than 5 times"):
        await get(context, server.url("/loop"))
    assert server.requests["/loop"] == 6


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/", "gopher://x/", "/relative", "http://"]
)
async def test_only_absolute_http_urls_are_fetched(context: ToolContext, url: str) -> None:
    with pytest.raises(ToolError):
        await get(context, url)
