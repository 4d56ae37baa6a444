"""``http_get`` against a real loopback server: limits, statuses, redirects, schemes, and
the refusal of hosts on the worker's own machine or network."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from activities.tools.http import HttpGetResult, HttpServerError, Resolver, http_get_tool
from taskcraft.tools import ToolContext, ToolError
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
    """Fetch with the loopback test server listed explicitly (issue 17: loopback is refused
    unless the worker lists the host)."""
    tool = http_get_tool(private_hosts=["127.0.0.1"])
    text = await tool.invoke({"url": url, **arguments}, context)
    return HttpGetResult.model_validate_json(text)


def resolving(table: dict[str, list[str]]) -> Resolver:
    """A resolver that answers from ``table``, counting the names it was asked."""

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "unknown name")
        return table[host]

    asked: list[str] = []
    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


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


# --- the worker's own machine and network ------------------------------------------------


async def test_loopback_is_refused_unless_listed(
    server: LoopbackHttp, context: ToolContext
) -> None:
    """The model hears why; the server never sees a request."""
    with pytest.raises(ToolError, match=r"Refused 127\.0\.0\.1: 127\.0\.0\.1 is a loopback"):
        await http_get_tool().invoke({"url": server.url("/hello")}, context)
    assert server.requests["/hello"] == 0


async def test_localhost_by_name_is_refused(server: LoopbackHttp, context: ToolContext) -> None:
    url = server.url("/hello").replace("127.0.0.1", "localhost")
    with pytest.raises(ToolError, match="Refused localhost"):
        await http_get_tool().invoke({"url": url}, context)
    assert server.requests["/hello"] == 0


async def test_a_listed_name_that_resolves_to_loopback_is_fetched(
    server: LoopbackHttp, context: ToolContext
) -> None:
    """The worker lists the hosts its policy names explicitly: those may be local."""
    url = server.url("/hello").replace("127.0.0.1", "localhost")
    tool = http_get_tool(private_hosts=["LOCALHOST."])
    result = HttpGetResult.model_validate_json(await tool.invoke({"url": url}, context))
    assert (result.status, result.text) == (200, "hello, world")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "169.254.169.254",
        "10.1.2.3",
        "fd00:ec2::254",
        "0.0.0.0",
    ],
)
async def test_a_public_looking_name_that_resolves_privately_is_refused(
    context: ToolContext, address: str
) -> None:
    """Checked before connecting: the resolver is the only thing asked."""
    resolve = resolving({"docs.example.com": ["93.184.216.34", address]})
    tool = http_get_tool(resolve=resolve)
    with pytest.raises(ToolError, match=r"Refused docs\.example\.com: it resolves to"):
        await tool.invoke({"url": "http://docs.example.com/page"}, context)
    assert resolve.asked == ["docs.example.com"]  # type: ignore[attr-defined]


async def test_a_redirect_to_a_private_address_is_refused(
    server: LoopbackHttp, context: ToolContext
) -> None:
    """Every hop is checked: a listed host cannot bounce the worker to another local one."""
    first = server.url("/redirect").replace("127.0.0.1", "localhost")
    target = server.url("/hello")
    tool = http_get_tool(private_hosts=["localhost"])
    with pytest.raises(ToolError, match=r"Refused 127\.0\.0\.1"):
        await tool.invoke({"url": f"{first}?to={target}"}, context)
    assert (server.requests["/redirect"], server.requests["/hello"]) == (1, 0)


async def test_a_public_resolution_is_fetched(tmp_path: Path) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, text="public page")

    resolve = resolving({"docs.example.com": ["93.184.216.34", "2606:2800:220:1::1"]})
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        context = ToolContext(
            task_id="t",
            step=1,
            call_id="c",
            idempotency_key="k",
            workspace=tmp_path,
            http=http,
            data_dir=tmp_path,
        )
        text = await http_get_tool(resolve=resolve).invoke(
            {"url": "https://docs.example.com/x"}, context
        )
    assert HttpGetResult.model_validate_json(text).text == "public page"
    assert seen == ["https://docs.example.com/x"]


async def test_a_name_that_does_not_resolve_is_retried_not_refused(context: ToolContext) -> None:
    """A resolver failure is not the model's to read: Temporal retries it."""
    tool = http_get_tool(resolve=resolving({}))
    with pytest.raises(socket.gaierror):
        await tool.invoke({"url": "https://docs.example.com/"}, context)
