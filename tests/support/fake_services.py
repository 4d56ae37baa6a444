"""Jira, CloudWatch Logs and Slack on 127.0.0.1, speaking their wire formats, with faults.

One threaded standard-library server answers all three, so a connector test points its
settings at ``services.base_url`` and counts what arrived:

    POST /rest/api/3/search/jql     route "jira.jql"       nextPageToken paging
    POST /rest/api/2/search         route "jira.classic"   startAt/total paging
    POST /  (X-Amz-Target: Logs_20140328.FilterLogEvents)  route "cloudwatch.filter"
    POST /slack/webhook/...         route "slack.webhook"  answers "ok"
    POST /slack/api/chat.postMessage        route "slack.post"
    GET  /slack/api/conversations.history   route "slack.history"

``fail_next(route, status, ...)`` queues a scripted answer; with ``apply=True`` the
server does the work first (stores the Slack message) and only then fails, which is
what a crash after the side effect looks like from the client. When botocore is
installed, CloudWatch requests have their SigV4 signature recomputed and checked.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

JIRA_BEARER = "jira-test-token"
SLACK_TOKEN = "xoxb-test-token"
SLACK_CHANNEL = "C0123TEST"
AWS_ACCESS_KEY = "AKIDTESTEXAMPLE"
AWS_SECRET_KEY = "test-secret-key"
AWS_REGION = "eu-west-1"
LOG_GROUP = "/taskcraft/sample"


@dataclass
class Fault:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    apply: bool = False  # do the work, then answer with this fault


@dataclass
class FakeServices:
    base_url: str = ""
    requests: Counter[str] = field(default_factory=Counter)
    faults: dict[str, list[Fault]] = field(default_factory=lambda: defaultdict(list))
    jira_issues: list[dict[str, Any]] = field(default_factory=list)
    jira_authorization: str = f"Bearer {JIRA_BEARER}"
    jira_page_size: int = 2
    jira_bodies: list[dict[str, Any]] = field(default_factory=list)
    cloudwatch_events: list[dict[str, Any]] = field(default_factory=list)
    cloudwatch_page_size: int = 3
    cloudwatch_bodies: list[dict[str, Any]] = field(default_factory=list)
    signature_checks: list[str] = field(default_factory=list)  # "ok" or why not
    slack_messages: list[dict[str, Any]] = field(default_factory=list)
    webhook_posts: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(
        self,
        route: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        apply: bool = False,
        times: int = 1,
    ) -> None:
        for _ in range(times):
            self.faults[route].append(Fault(status, body, headers or {}, apply))

    def url(self, path: str) -> str:
        return self.base_url + path


def check_sigv4(method: str, url: str, headers: dict[str, str], body: bytes) -> str:
    """Recompute the request's SigV4 signature with botocore: "ok", or what is wrong."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    authorization = headers.get("authorization", "")
    if not authorization.startswith("AWS4-HMAC-SHA256 "):
        return f"no SigV4 Authorization header: {authorization!r}"
    parts = dict(
        item.strip().split("=", 1)
        for item in authorization.removeprefix("AWS4-HMAC-SHA256 ").split(",")
    )
    if not parts["Credential"].startswith(f"{AWS_ACCESS_KEY}/"):
        return f"signed with another key: {parts['Credential']}"
    signed = parts["SignedHeaders"].split(";")
    request = AWSRequest(method=method, url=url, data=body, headers={h: headers[h] for h in signed})
    request.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(Credentials(AWS_ACCESS_KEY, AWS_SECRET_KEY), "logs", AWS_REGION)
    string_to_sign = signer.string_to_sign(request, signer.canonical_request(request))
    expected = signer.signature(string_to_sign, request)
    return "ok" if expected == parts["Signature"] else "signature mismatch"


def _handler(state: FakeServices) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _reply(self, status: int, body: Any, headers: dict[str, str]) -> None:
            if isinstance(body, bytes | str):
                raw, kind = (body.encode() if isinstance(body, str) else body), "text/plain"
            else:
                raw, kind = json.dumps(body).encode(), "application/json"
            self.send_response(status)
            for name, value in {"Content-Type": kind, **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _route(self, path: str) -> str:
            if path == "/rest/api/3/search/jql":
                return "jira.jql"
            if path == "/rest/api/2/search":
                return "jira.classic"
            if path == "/" and self.headers.get("X-Amz-Target") == "Logs_20140328.FilterLogEvents":
                return "cloudwatch.filter"
            if path.startswith("/slack/webhook/"):
                return "slack.webhook"
            return {
                "/slack/api/chat.postMessage": "slack.post",
                "/slack/api/conversations.history": "slack.history",
            }.get(path, "unknown")

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            body = self._body() if method == "POST" else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            with state.lock:
                route = self._route(parts.path)
                state.requests[route] += 1
                fault = state.faults[route].pop(0) if state.faults[route] else None
                if fault is None or fault.apply:
                    address = self.server.server_address
                    status, answer, extra = _answer(state, route, parts, headers, body, address)
                if fault is not None:
                    status, answer, extra = fault.status, fault.body or b"", fault.headers
            self._reply(status, answer, extra)

    return Handler


def _answer(
    state: FakeServices,
    route: str,
    parts: Any,
    headers: dict[str, str],
    body: bytes,
    address: Any,
) -> tuple[int, Any, dict[str, str]]:
    if route.startswith("jira."):
        if headers.get("authorization") != state.jira_authorization:
            return 401, {"errorMessages": ["You are not authenticated."]}, {}
        request = json.loads(body)
        state.jira_bodies.append(request)
        size = min(int(request.get("maxResults", 50)), state.jira_page_size)
        if route == "jira.classic":
            start = int(request.get("startAt", 0))
            page = state.jira_issues[start : start + size]
            return (
                200,
                {
                    "startAt": start,
                    "maxResults": size,
                    "total": len(state.jira_issues),
                    "issues": page,
                },
                {},
            )
        start = int(str(request.get("nextPageToken") or "tok0").removeprefix("tok"))
        page = state.jira_issues[start : start + size]
        answer: dict[str, Any] = {"issues": page, "isLast": start + size >= len(state.jira_issues)}
        if not answer["isLast"]:
            answer["nextPageToken"] = f"tok{start + size}"
        return 200, answer, {}
    if route == "cloudwatch.filter":
        return _cloudwatch(state, headers, body, address)
    if route == "slack.webhook":
        state.webhook_posts.append(json.loads(body))
        return 200, b"ok", {}
    if route.startswith("slack."):
        return _slack(state, route, parts, headers, body)
    return 404, {"error": "unknown route"}, {}


def _cloudwatch(
    state: FakeServices, headers: dict[str, str], body: bytes, address: Any
) -> tuple[int, Any, dict[str, str]]:
    try:
        import botocore  # noqa: F401
    except ImportError:
        check = "botocore missing: signature not checked"
    else:
        check = check_sigv4("POST", f"http://{address[0]}:{address[1]}/", headers, body)
    state.signature_checks.append(check)
    if check not in ("ok", "botocore missing: signature not checked"):
        return 403, {"__type": "InvalidSignatureException", "message": check}, {}
    request = json.loads(body)
    state.cloudwatch_bodies.append(request)
    if request.get("logGroupName") != LOG_GROUP:
        return (
            400,
            {
                "__type": "ResourceNotFoundException",
                "message": "The specified log group does not exist.",
            },
            {},
        )
    pattern = request.get("filterPattern", "")
    matching = [
        e for e in state.cloudwatch_events
        if request["startTime"] <= e["timestamp"] <= request["endTime"] and pattern in e["message"]
    ]  # fmt: skip
    start = int(request.get("nextToken") or 0)
    size = min(int(request.get("limit", 10_000)), state.cloudwatch_page_size)
    answer: dict[str, Any] = {"events": matching[start : start + size], "searchedLogStreams": []}
    if start + size < len(matching):
        answer["nextToken"] = str(start + size)
    return 200, answer, {}


def _slack(
    state: FakeServices, route: str, parts: Any, headers: dict[str, str], body: bytes
) -> tuple[int, Any, dict[str, str]]:
    if headers.get("authorization") != f"Bearer {SLACK_TOKEN}":
        return 200, {"ok": False, "error": "invalid_auth"}, {}
    if route == "slack.history":
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if query.get("channel") != SLACK_CHANNEL:
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        newest_first = [
            m for m in reversed(state.slack_messages) if m["channel"] == query["channel"]
        ]
        shown = [
            m
            if query.get("include_all_metadata") == "true"
            else {k: v for k, v in m.items() if k != "metadata"}
            for m in newest_first[: int(query.get("limit", 100))]
        ]
        return 200, {"ok": True, "messages": shown, "has_more": len(newest_first) > len(shown)}, {}
    request = json.loads(body)
    if request.get("channel") != SLACK_CHANNEL:
        return 200, {"ok": False, "error": "channel_not_found"}, {}
    message = {
        "type": "message",
        "channel": request["channel"],
        "text": request["text"],
        "ts": f"{1763300000 + len(state.slack_messages)}.000100",
    }
    if "metadata" in request:
        message["metadata"] = request["metadata"]
    state.slack_messages.append(message)
    return (
        200,
        {"ok": True, "channel": message["channel"], "ts": message["ts"], "message": message},
        {},
    )


@contextmanager
def running_fake_services() -> Iterator[FakeServices]:
    state = FakeServices()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
