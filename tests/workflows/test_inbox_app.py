"""The approval inbox over HTTP (httpx.ASGITransport) with a real dev server and worker behind it.

The default policy holds every ``write_file`` for a person, so a model scripted to write
parks its task at gate g1 (and g2 for a second write). Forms are posted the way a browser
posts them: fields read from the page, with the inbox's Origin.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from temporalio.client import Client, WorkflowHandle

from inbox import build_inbox_app
from inbox.app import SESSION_COOKIE
from inbox.csrf import csrf_token
from inbox.settings import InboxSettings
from infra.connection import connect
from infra.settings import Settings
from taskcraft.agents import AgentSpec
from taskcraft.approval_links import approval_links, gate_path
from taskcraft.approvals import DecisionKind
from taskcraft.status import TaskStatus
from taskcraft.task import TaskState
from tests.support.fake_providers import FakeToolCall, reply
from tests.workflows.conftest import Harness

BASE = "http://inbox.test"
SECRET = b"test-inbox-secret-0123456789abcdef"
TOKEN = "operator-token-42"
SETTINGS = InboxSettings(secret=SECRET, base_url=BASE, token=TOKEN, operator="olivia")
ORIGIN = {"Origin": BASE}
BEARER = {"Authorization": f"Bearer {TOKEN}"}
LATER = datetime.now(UTC) + timedelta(hours=2)


def writer(model: str, approvers: list[str], name: str) -> AgentSpec:
    return AgentSpec.model_validate(
        {
            "name": name,
            "instructions": "Write what you are asked to write.",
            "model_route": [f"openai:{model}"],
            "tools": ["write_file"],
            "approval": {"approvers": approvers},
        }
    )


def write(path: str, content: str) -> FakeToolCall:
    return FakeToolCall("write_file", {"path": path, "content": content})


def at_gate(gate_id: str) -> Any:
    return lambda s: s.pending is not None and s.pending.gate_id == gate_id


@pytest.fixture
async def http(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    # Only this test's tasks: the dev server is shared with tasks other tests left waiting.
    settings = replace(
        SETTINGS, list_filter=f"TaskQueue = '{harness.settings.task_queue}'", query_timeout_s=1
    )
    app = build_inbox_app(harness.client, settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client


async def start_gated(
    harness: Harness,
    *writes: FakeToolCall,
    approvers: list[str] | None = None,
    goal: str = "w",
    name: str = "writer",
) -> tuple[WorkflowHandle[Any, Any], AgentSpec]:
    """A task parked at gate g1, proposing the first of ``writes``; the worker must run."""
    model = harness.model()
    harness.providers.script(*(reply("", [call]) for call in writes), reply("done"), model=model)
    # Agents are registered by name: two tasks in one test need two names.
    agent = writer(model, ["alice", "bob"] if approvers is None else approvers, name)
    return await harness.start(agent, goal), agent


def link(
    task_id: str, gate_id: str = "g1", approver: str = "alice", expires: datetime = LATER
) -> str:
    """The path and query of a signed link, as a notification carries it."""
    url = approval_links(BASE, SECRET, task_id, gate_id, [approver], expires)[0].url
    return url.removeprefix(BASE)


def hidden_fields(html: str, kind: str) -> dict[str, str]:
    """The hidden inputs of the decision form of this kind, read from the page."""
    form = re.search(
        rf'<form method="post"[^>]*>\s*<input type="hidden" name="kind" value="{kind}">(.*?)</form>',
        html,
        re.S,
    )
    assert form is not None, f"no {kind} form on the page"
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(0)))


async def poll_inbox(http: httpx.AsyncClient, *task_ids: str, within: float = 20.0) -> str:
    """The inbox page once it lists every task (visibility is eventually consistent)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        page = await http.get("/", headers=BEARER)
        assert page.status_code == 200
        if all(f">{task_id}<" in page.text for task_id in task_ids):
            return page.text
        if loop.time() > deadline:
            raise AssertionError(f"the inbox did not list {task_ids} within {within}s")
        await asyncio.sleep(0.1)


def table_row(html: str, task_id: str) -> str:
    """The ``<tr>`` of the inbox table that links to ``task_id``."""
    at = html.index(f">{task_id}<")
    return html[html.rindex("<tr>", 0, at) : html.index("</tr>", at)]


def decide_url(path: str) -> str:
    return urlsplit(path).path + "/decide"


async def test_valid_link_approves_and_the_task_completes(
    harness: Harness, http: httpx.AsyncClient
) -> None:
    """GET the link, post Approve: the update applies, the approver is the link's, the task ends."""
    handle, agent = await start_gated(harness, write("out.txt", "hello"))
    async with harness.worker([agent]):
        await harness.wait_for(handle, at_gate("g1"))
        page = await http.get(link(handle.id))
        assert page.status_code == 200
        assert "Decide as alice" in page.text
        assert "run write_file" in page.text
        assert "<tr><th>content</th><td><pre>hello</pre></td></tr>" in page.text
        assert "alice, bob" in page.text
        fields = {**hidden_fields(page.text, "approve"), "comment": "looks right"}
        assert fields["as"] == "alice"
        done = await http.post(decide_url(link(handle.id)), data=fields, headers=ORIGIN)
        assert done.status_code == 200, done.text
        assert "approve recorded for gate g1 by alice" in done.text
        result = await handle.result()
        state: TaskState = await harness.state(handle)
    assert result.status is TaskStatus.COMPLETED
    [record] = state.decisions
    assert (record.approver, record.kind, record.via, record.comment) == (
        "alice",
        DecisionKind.APPROVE,
        "update",
        "looks right",
    )
    assert (harness.workspace / "out.txt").read_text() == "hello"


def query_of(path: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(path).query))


def flipped(signature: str) -> str:
    return signature[:-1] + ("A" if signature[-1] != "A" else "B")


PAST = datetime.now(UTC) - timedelta(minutes=5)
NOT_VALID = "This link is not valid"


@pytest.mark.parametrize(
    ("make_query", "status", "says"),
    [
        pytest.param(lambda t: query_of(link(t, expires=PAST)), 410, "expired", id="expired"),
        pytest.param(
            lambda t: query_of(link(t)) | {"sig": flipped(query_of(link(t))["sig"])},
            403,
            NOT_VALID,
            id="tampered-signature",
        ),
        pytest.param(lambda t: query_of(link(t)) | {"as": "bob"}, 403, NOT_VALID, id="approver"),
        pytest.param(
            lambda t: query_of(link(t)) | {"exp": str(int(LATER.timestamp()) + 86400)},
            403,
            NOT_VALID,
            id="later-expiry",
        ),
        pytest.param(lambda t: query_of(link(t, "g2")), 403, NOT_VALID, id="another-gate"),
        pytest.param(lambda t: query_of(link("another-task")), 403, NOT_VALID, id="another-task"),
    ],
)
async def test_refused_link_gets_a_clear_page_and_changes_nothing(
    harness: Harness, http: httpx.AsyncClient, make_query: Any, status: int, says: str
) -> None:
    """Expired, altered, or signed for another gate or task: the page says why, nothing changes."""
    handle, agent = await start_gated(harness, write("out.txt", "x"))
    async with harness.worker([agent]):
        await harness.wait_for(handle, at_gate("g1"))
        query = make_query(handle.id)
        page = await http.get(gate_path(handle.id, "g1"), params=query)
        assert page.status_code == status
        assert says in page.text
        # Posting the form directly (with a CSRF token made for it) is refused the same way.
        csrf = csrf_token(SECRET, query["sig"], handle.id, "g1")
        fields = query | {"kind": "approve", "csrf": csrf}
        post = await http.post(gate_path(handle.id, "g1") + "/decide", data=fields, headers=ORIGIN)
        assert post.status_code == status
        state = await harness.state(handle)
    assert state.status is TaskStatus.AWAITING_APPROVAL
    assert state.decisions == []


async def test_used_link_says_already_decided_and_the_task_page_shows_the_story(
    harness: Harness, http: httpx.AsyncClient
) -> None:
    """A gate is decided once: a double submit or a reused link changes nothing more. The
    task page shows the status, the timeline, the next request and the decision history."""
    handle, agent = await start_gated(harness, write("a.txt", "1"), write("b.txt", "2"))
    async with harness.worker([agent]):
        await harness.wait_for(handle, at_gate("g1"))
        fields = hidden_fields((await http.get(link(handle.id))).text, "approve")
        # A double click: two posts at once, one decision.
        url = decide_url(link(handle.id))
        first, second = await asyncio.gather(
            *(http.post(url, data=fields, headers=ORIGIN) for _ in range(2))
        )
        assert sorted([first.status_code, second.status_code]) == [200, 409]
        await harness.wait_for(handle, at_gate("g2"))
        again = await http.post(decide_url(link(handle.id)), data=fields, headers=ORIGIN)
        reopened = await http.get(link(handle.id))
        page = await http.get(f"/tasks/{handle.id}", headers=BEARER)
        state = await harness.state(handle)
    assert again.status_code == 409
    assert "Gate g1 was already decided: approved by alice" in again.text
    assert "The task now waits at gate g2: run write_file." in again.text
    assert "already decided" in reopened.text
    assert 'name="kind" value="approve"' not in reopened.text  # no forms any more
    # Exactly one applied decision (a racing duplicate may be recorded as refused).
    assert [(r.gate_id, r.approver) for r in state.decisions if r.applied] == [("g1", "alice")]
    assert page.status_code == 200
    assert "AWAITING_APPROVAL" in page.text
    assert "Pending request · gate g2: run write_file" in page.text
    assert page.text.count("<b>Action</b> <code>write_file</code>") == 2
    assert '<b>Observation</b> <span class="status">ok</span>' in page.text
    assert "<td>approved by alice</td>" in page.text
    assert f"/namespaces/default/workflows/{handle.id}" in page.text
    assert page.headers["referrer-policy"] == "same-origin"
    assert "script-src" not in page.headers["content-security-policy"]


async def test_inbox_needs_the_token(harness: Harness, http: httpx.AsyncClient) -> None:
    """No token, a wrong one, or a forged cookie: 401 and the login form, never the list."""
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Cookie": f"{SESSION_COOKIE}=forged.sig"},
    ):
        page = await http.get("/", headers=headers)
        assert page.status_code == 401
        assert page.headers["www-authenticate"] == "Bearer"
        assert 'name="token"' in page.text
        assert "Waiting for a human" not in page.text
    assert (await http.get("/", headers=BEARER)).status_code == 200
    wrong = await http.post("/login", data={"token": "nope"}, headers=ORIGIN)
    assert wrong.status_code == 401
    assert "Wrong token." in wrong.text
    login = await http.post("/login", data={"token": TOKEN}, headers=ORIGIN)
    assert (login.status_code, login.headers["location"]) == (303, "/")
    assert "httponly" in login.headers["set-cookie"].lower()
    assert (await http.get("/")).status_code == 200  # the session cookie now


async def test_inbox_lists_waiting_tasks_oldest_first(
    harness: Harness, http: httpx.AsyncClient
) -> None:
    # Agents are registered when the worker starts, so both exist first; the second task
    # starts only once the first is at its gate, so the order is known.
    model_a, model_b = harness.model(), harness.model()
    agent_a = writer(model_a, ["alice", "bob"], "writer")
    agent_b = writer(model_b, [], "scribe")
    harness.providers.script(reply("", [write("a.txt", "1")]), model=model_a)
    harness.providers.script(reply("", [write("b.txt", "2")]), model=model_b)
    async with harness.worker([agent_a, agent_b]):
        first = await harness.start(agent_a, "first goal")
        await harness.wait_for(first, at_gate("g1"))
        second = await harness.start(agent_b, "second goal")
        await harness.wait_for(second, at_gate("g1"))

        html = await poll_inbox(http, first.id, second.id)
    rows = {task_id: table_row(html, task_id) for task_id in (first.id, second.id)}
    assert html.index(f">{first.id}<") < html.index(f">{second.id}<")
    assert "first goal" in rows[first.id]
    assert "<td>writer</td>" in rows[first.id]
    assert "<td>scribe</td>" in rows[second.id]
    assert "run write_file" in rows[first.id]
    assert "alice, bob" in rows[first.id]
    assert "any operator" in rows[second.id]
    assert re.search(r">\d+ seconds?<", rows[first.id])  # how long it has waited
    assert "in 23 hours" in rows[first.id]  # the default 24 h gate timeout
    assert "then reject" in rows[first.id]
    # With no worker left to answer, the rows are read from history and say so.
    page = await http.get("/", headers=BEARER)
    queue = harness.settings.task_queue
    # (The worker has only just stopped: the server still lists it as a poller.)
    answer = f"did not answer within 1 s (task queue {queue}); shown as of its last recorded event"
    assert answer in table_row(page.text, first.id)
    assert "run write_file" in table_row(page.text, first.id)
    task_page = await http.get(f"/tasks/{first.id}", headers=BEARER)
    assert task_page.status_code == 200
    assert answer in task_page.text
    assert "first goal" in task_page.text


async def test_csrf_failures_change_nothing(harness: Harness, http: httpx.AsyncClient) -> None:
    handle, agent = await start_gated(harness, write("out.txt", "x"))
    async with harness.worker([agent]):
        await harness.wait_for(handle, at_gate("g1"))
        page = await http.get(link(handle.id))
        fields = hidden_fields(page.text, "approve")
        url = decide_url(link(handle.id))
        other_gate = csrf_token(SECRET, fields["sig"], handle.id, "g2")
        attempts = [
            (fields | {"csrf": ""}, ORIGIN),
            (fields | {"csrf": other_gate}, ORIGIN),
            (fields, {"Origin": "https://evil.example"}),
            (fields, {"Origin": "null"}),
            (fields, {"Referer": "https://evil.example/page"}),
        ]
        for data, headers in attempts:
            post = await http.post(url, data=data, headers=headers)
            assert post.status_code == 403, (data, headers)
            assert "could not be verified" in post.text
        state = await harness.state(handle)
    assert state.decisions == []
    assert state.status is TaskStatus.AWAITING_APPROVAL


async def test_edit_with_invalid_arguments_shows_the_error_and_changes_nothing(
    harness: Harness, http: httpx.AsyncClient
) -> None:
    handle, agent = await start_gated(harness, write("out.txt", "draft"))
    async with harness.worker([agent]):
        await harness.wait_for(handle, at_gate("g1"))
        page = await http.get(link(handle.id))
        fields = hidden_fields(page.text, "edit")
        url = decide_url(link(handle.id))
        broken = await http.post(
            url, data=fields | {"arguments": '{"path": "out.txt",'}, headers=ORIGIN
        )
        assert broken.status_code == 422
        assert "The arguments are not valid JSON" in broken.text
        assert "{&#34;path&#34;: &#34;out.txt&#34;," in broken.text  # what was typed, kept
        invalid = await http.post(url, data=fields | {"arguments": '{"path": 7}'}, headers=ORIGIN)
        assert invalid.status_code == 409
        assert "edited arguments are invalid" in invalid.text
        assert (await harness.state(handle)).decisions == []
        edited = '{"path": "out.txt", "content": "final"}'
        good = await http.post(url, data=fields | {"arguments": edited}, headers=ORIGIN)
        assert good.status_code == 200
        await handle.result()
        state = await harness.state(handle)
    assert [(r.kind, r.approver, r.arguments) for r in state.decisions] == [
        (DecisionKind.EDIT, "alice", {"path": "out.txt", "content": "final"})
    ]
    assert (harness.workspace / "out.txt").read_text() == "final"


async def test_reject_needs_a_reason_that_reaches_the_model(
    harness: Harness, http: httpx.AsyncClient
) -> None:
    handle, agent = await start_gated(harness, write("out.txt", "x"))
    model = agent.model_route[0].ref.split(":", 1)[1]
    async with harness.worker([agent]):
        await harness.wait_for(handle, at_gate("g1"))
        page = await http.get(link(handle.id, approver="bob") + "&do=reject")
        assert re.search(
            r'<textarea id="reason" name="reason" rows="3" required autofocus>', page.text
        )
        fields = hidden_fields(page.text, "reject")
        url = decide_url(link(handle.id, approver="bob"))
        empty = await http.post(url, data=fields | {"reason": "  "}, headers=ORIGIN)
        assert empty.status_code == 422
        assert "A rejection needs a reason" in empty.text
        done = await http.post(url, data=fields | {"reason": "wrong file"}, headers=ORIGIN)
        assert done.status_code == 200
        await handle.result()
    sent = harness.providers.requests(model=model)[1].body["messages"]
    assert "Rejected by bob: wrong file" in sent[-1]["content"]


async def test_decision_on_a_finished_task(harness: Harness, http: httpx.AsyncClient) -> None:
    handle, agent = await start_gated(harness, write("out.txt", "x"))
    async with harness.worker([agent]):
        await harness.wait_for(handle, at_gate("g1"))
        page = await http.get(link(handle.id))
        fields = hidden_fields(page.text, "approve")
        await handle.cancel()
        await harness.wait_for(handle, lambda s: s.status is TaskStatus.CANCELLED)
        post = await http.post(decide_url(link(handle.id)), data=fields, headers=ORIGIN)
        assert post.status_code == 409
        assert "This task is already CANCELLED; there is nothing to decide." in post.text
        state = await harness.state(handle)
    assert state.decisions == []


async def test_login_decides_as_the_operator_it_names(
    harness: Harness, http: httpx.AsyncClient
) -> None:
    """After login the approver is TASKCRAFT_INBOX_OPERATOR; a gate naming others refuses them."""
    open_task, agent = await start_gated(harness, write("a.txt", "1"), approvers=[])
    named_task, named_agent = await start_gated(harness, write("b.txt", "2"), name="scribe")
    await http.post("/login", data={"token": TOKEN}, headers=ORIGIN)
    async with harness.worker([agent, named_agent]):
        await harness.wait_for(open_task, at_gate("g1"))
        await harness.wait_for(named_task, at_gate("g1"))
        refused = await http.get(f"/tasks/{named_task.id}")
        assert "olivia may not decide gate g1 (allowed: alice, bob)" in refused.text
        page = await http.get(f"/tasks/{open_task.id}")
        assert "Temporal UI" in page.text
        fields = hidden_fields(page.text, "approve")
        assert "sig" not in fields  # the session, not a link, authenticates this form
        url = gate_path(open_task.id, "g1") + "/decide"
        done = await http.post(url, data=fields, headers=ORIGIN)
        assert done.status_code == 200
        await open_task.result()
        state = await harness.state(open_task)
    assert [(r.approver, r.via) for r in state.decisions] == [("olivia", "update")]


async def test_unknown_task_and_temporal_outage_are_pages_not_tracebacks(
    http: httpx.AsyncClient, tmp_path: Any
) -> None:
    missing = await http.get("/tasks/no-such-task", headers=BEARER)
    assert missing.status_code == 404
    assert "no task with id &#39;no-such-task&#39;" in missing.text
    dead = Settings(data_dir=tmp_path, env={"TEMPORAL_ADDRESS": "127.0.0.1:1"})
    # Connecting on the first request, and a client whose server went away.
    for source in (lambda: connect(dead), await Client.connect("127.0.0.1:1", lazy=True)):
        app = build_inbox_app(source, SETTINGS)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            assert (await client.get("/health")).text == "ok"
            pages = [await client.get("/", headers=BEARER), await client.get(link("t-1"))]
        for page in pages:
            assert page.status_code == 503
            assert "Temporal is unavailable" in page.text
            assert "Traceback" not in page.text
