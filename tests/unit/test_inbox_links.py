"""Signed approval links, login sessions, CSRF tokens and origin checks of the inbox."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from inbox.csrf import csrf_token, csrf_valid, origin_of, same_origin
from inbox.serve import RedactSignatures
from inbox.sessions import Session, sign_session, verify_session
from inbox.settings import InboxSettings
from taskcraft.approval_links import (
    LinkSettings,
    approval_links,
    expiry_from_param,
    gate_links,
    sign_link,
    verify_link,
)
from taskcraft.errors import ConfigError, LinkExpiredError, LinkInvalidError

SECRET = b"unit-test-secret-0123456789abcdef"
EXPIRES = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
BEFORE = EXPIRES - timedelta(seconds=1)


def test_link_signature_is_hmac_sha256_over_the_four_fields() -> None:
    """The scheme is a contract between workers (signing) and inbox processes (verifying)."""
    key = hmac.new(SECRET, b"taskcraft-inbox/approval-link/v1", hashlib.sha256).digest()
    message = b'["task-1","g1","alice",1893553445]'
    digest = hmac.new(key, message, hashlib.sha256).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert sign_link(SECRET, "task-1", "g1", "alice", EXPIRES) == expected


def test_valid_link_verifies_until_it_expires() -> None:
    token = sign_link(SECRET, "task-1", "g1", "alice", EXPIRES)
    verify_link(SECRET, "task-1", "g1", "alice", EXPIRES, token, now=BEFORE)
    with pytest.raises(LinkExpiredError, match="expired at 2030-01-02 03:04 UTC"):
        verify_link(SECRET, "task-1", "g1", "alice", EXPIRES, token, now=EXPIRES)


@pytest.mark.parametrize(
    ("task_id", "gate_id", "approver", "expires_at", "secret"),
    [
        ("task-2", "g1", "alice", EXPIRES, SECRET),
        ("task-1", "g2", "alice", EXPIRES, SECRET),
        ("task-1", "g1", "mallory", EXPIRES, SECRET),
        ("task-1", "g1", "alice", EXPIRES + timedelta(days=30), SECRET),
        ("task-1", "g1", "alice", EXPIRES, b"another-secret-0123456789abcdefgh"),
    ],
    ids=["other-task", "other-gate", "other-approver", "later-expiry", "other-secret"],
)
def test_link_is_bound_to_task_gate_approver_expiry_and_key(
    task_id: str, gate_id: str, approver: str, expires_at: datetime, secret: bytes
) -> None:
    token = sign_link(SECRET, "task-1", "g1", "alice", EXPIRES)
    with pytest.raises(LinkInvalidError, match="not valid for this task and gate"):
        verify_link(secret, task_id, gate_id, approver, expires_at, token, now=BEFORE)


def test_tampered_expired_link_is_reported_invalid_not_expired() -> None:
    token = sign_link(SECRET, "task-1", "g1", "alice", EXPIRES)
    with pytest.raises(LinkInvalidError):
        verify_link(SECRET, "task-1", "g1", "alice", EXPIRES, token[:-2] + "xx", now=EXPIRES)


def test_naive_expiry_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_link(SECRET, "t", "g1", "alice", datetime(2030, 1, 1))  # noqa: DTZ001


@pytest.mark.parametrize("raw", ["", "abc", "-5", "1e9", "²", "999999999999"])
def test_malformed_expiry_parameter_is_invalid(raw: str) -> None:
    with pytest.raises(LinkInvalidError, match="malformed"):
        expiry_from_param(raw)


def test_approval_links_one_per_approver_each_verifies() -> None:
    links = approval_links(
        "https://inbox.example/", SECRET, "task/1", "g3", ["alice", "bob", "alice"], EXPIRES
    )
    assert [link.approver for link in links] == ["alice", "bob"]
    for link in links:
        parts = urlsplit(link.url)
        assert parts.path == "/tasks/task%2F1/gates/g3"
        query = dict(parse_qsl(parts.query))
        assert query["as"] == link.approver
        assert query["exp"] == "1893553445"
        verify_link(SECRET, "task/1", "g3", query["as"], EXPIRES, query["sig"], now=BEFORE)
        assert link.approve_url == link.url + "&do=approve"
        assert link.reject_url == link.url + "&do=reject"
    assert approval_links("https://inbox.example", SECRET, "t", "g1", [], EXPIRES) == []


def test_gate_links_expire_with_the_gate_and_fall_back_to_default_approvers() -> None:
    settings = LinkSettings(
        secret=SECRET, base_url="https://inbox.example", default_approvers=("ops",)
    )
    named = gate_links(
        settings, task_id="t1", gate_id="g1", approvers=["alice"], timeout_at=EXPIRES
    )
    assert [(link.approver, link.expires_at) for link in named.links] == [("alice", EXPIRES)]
    assert named.task_url == "https://inbox.example/tasks/t1"
    assert named.as_json()[0]["expires_at"] == "2030-01-02T03:04:05+00:00"
    assert named.as_text().splitlines() == [
        "Inbox: https://inbox.example/tasks/t1",
        f"Decide as alice: {named.links[0].url}",
    ]
    anyone = gate_links(
        settings, task_id="t1", gate_id="g1", approvers=[], timeout_at=None, now=BEFORE
    )
    assert [link.approver for link in anyone.links] == ["ops"]
    assert anyone.links[0].expires_at == BEFORE + timedelta(hours=24)


def test_session_cookie_round_trip_and_rejections() -> None:
    session = Session.new("olivia", 3600, now=EXPIRES)
    cookie = sign_session(SECRET, session)
    assert verify_session(SECRET, cookie, now=EXPIRES) == session
    assert verify_session(SECRET, cookie, now=EXPIRES + timedelta(hours=1)) is None
    payload, _, signature = cookie.partition(".")
    forged_payload = base64.urlsafe_b64encode(b'["mallory","x",9999999999]').decode().rstrip("=")
    assert verify_session(SECRET, f"{forged_payload}.{signature}", now=EXPIRES) is None
    assert verify_session(SECRET, payload, now=EXPIRES) is None
    assert verify_session(b"another-secret-0123456789abcdefgh", cookie, now=EXPIRES) is None


def test_csrf_token_is_bound_to_its_link_or_session_and_gate() -> None:
    token = csrf_token(SECRET, "sig-of-link", "task-1", "g1")
    assert csrf_valid(SECRET, "sig-of-link", token, "task-1", "g1")
    assert not csrf_valid(SECRET, "sig-of-link", token, "task-1", "g2")
    assert not csrf_valid(SECRET, "sig-of-other-link", token, "task-1", "g1")
    assert not csrf_valid(SECRET, "sig-of-link", "", "task-1", "g1")
    # A link signature over the same words is not a CSRF token (separate keys).
    assert token != sign_link(SECRET, "task-1", "g1", "alice", EXPIRES)


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"origin": "https://inbox.example"}, True),
        ({"origin": "https://inbox.example:443"}, True),
        ({"origin": "https://evil.example"}, False),
        ({"origin": "http://inbox.example"}, False),
        ({"origin": "null"}, False),
        ({"origin": "https://inbox.example:bad"}, False),
        ({"referer": "https://inbox.example/tasks/x"}, True),
        ({"referer": "https://evil.example/inbox.example"}, False),
        ({}, True),  # no browser: the CSRF token still has to match
    ],
)
def test_same_origin(headers: dict[str, str], allowed: bool) -> None:
    assert same_origin(headers, origin_of("https://inbox.example/")) is allowed


def test_settings_from_env() -> None:
    env = {
        "TASKCRAFT_INBOX_SECRET": SECRET.decode(),
        "TASKCRAFT_INBOX_URL": "https://inbox.example/",
        "TASKCRAFT_INBOX_TOKEN": "tok",
        "TASKCRAFT_INBOX_APPROVERS": "ops, lead ,",
    }
    settings = InboxSettings.from_env(env)
    assert settings.base_url == "https://inbox.example"
    assert settings.default_approvers == ("ops", "lead")
    assert settings.secure_cookies
    assert "tok" not in repr(settings)
    assert SECRET.decode() not in repr(settings)
    assert settings.links.secret == SECRET
    assert LinkSettings.for_notifications({"TASKCRAFT_INBOX_SECRET": SECRET.decode()}) is None
    assert LinkSettings.for_notifications(env) == settings.links
    with pytest.raises(ConfigError, match="TASKCRAFT_INBOX_SECRET"):
        InboxSettings.from_env({"TASKCRAFT_INBOX_URL": "https://inbox.example"})
    with pytest.raises(ConfigError, match="at least 32 characters"):
        InboxSettings.from_env({"TASKCRAFT_INBOX_SECRET": "short"})
    with pytest.raises(ConfigError, match="TASKCRAFT_INBOX_LINK_TTL_S"):
        InboxSettings.from_env({**env, "TASKCRAFT_INBOX_LINK_TTL_S": "soon"})


def test_access_log_lines_lose_the_link_signature() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/tasks/t/gates/g1?as=alice&exp=1&sig=SECRETSIG&do=approve", "1.1", 200),
        None,
    )  # fmt: skip
    assert RedactSignatures().filter(record)
    assert "SECRETSIG" not in record.getMessage()
    assert "sig=REDACTED&do=approve" in record.getMessage()


def test_public_surface() -> None:
    import inbox

    assert sorted(inbox.__all__) == ["InboxSettings", "build_inbox_app", "serve_inbox"]
    assert all(hasattr(inbox, name) for name in inbox.__all__)
