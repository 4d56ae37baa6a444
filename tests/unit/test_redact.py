"""Secrets are masked before arguments reach logs; everything else is left as it was."""

from __future__ import annotations

import pytest

from taskcraft.redact import MASK, is_secret_key, redact, redact_text


@pytest.mark.parametrize(
    "key",
    ["password", "DB_PASSWORD", "client_secret", "api_key", "X-Api-Key", "apiKey", "OPENAI_API_KEY",
     "Authorization", "Cookie", "Set-Cookie", "access_token", "githubToken", "auth", "session_id",
     "AWS_SECRET_ACCESS_KEY", "private_key", "credentials"],
)  # fmt: skip
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    ["max_tokens", "prompt_tokens", "token_count", "author", "auth_method", "path", "keyboard"],
)
def test_ordinary_keys(key: str) -> None:
    assert not is_secret_key(key)


def test_values_under_secret_keys_are_masked_whole_at_any_depth() -> None:
    arguments = {
        "url": "https://example.com",
        "headers": {"Authorization": "Basic dXNlcjpwYXNz", "Accept": "text/html"},
        "items": [{"password": 1234}, {"api_key": {"nested": "x"}}, {"token": ""}],
        "max_tokens": 100,
    }
    assert redact(arguments) == {
        "url": "https://example.com",
        "headers": {"Authorization": MASK, "Accept": "text/html"},
        "items": [{"password": MASK}, {"api_key": MASK}, {"token": ""}],
        "max_tokens": 100,
    }


def test_redact_does_not_change_its_input() -> None:
    arguments = {"password": "hunter2", "list": ["sk-" + "a" * 24]}
    redact(arguments)
    assert arguments == {"password": "hunter2", "list": ["sk-" + "a" * 24]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-ghi_jkl", f"Authorization: Bearer {MASK}"),
        ("key sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX end", f"key {MASK} end"),
        ("xoxb-123456789012-abcdefABCDEF", MASK),
        ("ghp_" + "a1" * 18, MASK),
        ("id AKIAIOSFODNN7EXAMPLE.", f"id {MASK}."),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", f"jwt {MASK}"),
        ("https://bob:hunter2@db.example/x", f"https://bob:{MASK}@db.example/x"),
        ("postgres://app:s3cr3t@localhost:5432/db", f"postgres://app:{MASK}@localhost:5432/db"),
        ("GET /x?api_key=abc123&page=2", f"GET /x?api_key={MASK}&page=2"),
        ('{"password": "hunter2"}', f'{{"password": "{MASK}"}}'),
        ("export GITHUB_TOKEN=abc123", f"export GITHUB_TOKEN={MASK}"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", MASK),
    ],
)
def test_credentials_inside_strings_are_masked(text: str, expected: str) -> None:
    assert redact_text(text) == expected
    assert redact([text]) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "ls -la src",
        "https://docs.python.org/3/",
        "max_tokens=100",
        "skip-this-step",
        "a token of thanks",
    ],
)
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert redact_text(text) == text


def test_non_text_values_pass_through() -> None:
    assert redact((1, 2.5, None, True)) == (1, 2.5, None, True)
