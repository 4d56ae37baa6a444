"""Connectors for the weekly incident report: Jira, logs (local files or CloudWatch), Slack.

Each module holds a settings object read from the worker's environment (``from_env``,
with ``problems()`` for the pre-flight check in ``config_check``), a client class that
receives an ``httpx.AsyncClient`` so tests can point it at a loopback server, and a
``..._tool()`` factory. Failures follow ``taskcraft.tools``:

* ``ToolError`` for what retrying cannot fix (refused credentials, a bad query, an
  unknown channel); the message names the environment variable to change.
* ``ApplicationError`` (retryable) for rate limits and outages, with the server's
  ``Retry-After`` as ``next_retry_delay``, so Temporal owns the back-off.

This module holds only the helpers the three share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
from incidents.data import LogEvent
from temporalio import activity
from temporalio.exceptions import ApplicationError

# ApplicationError types for transient connector failures (retried by Temporal).
CONNECTOR_RATE_LIMITED = "ConnectorRateLimited"
CONNECTOR_UNAVAILABLE = "ConnectorUnavailable"
# A server asking for longer than this is treated as asking for this: the activity's
# retry policy and timeouts stay in charge of how long a task can be held up.
MAX_RETRY_AFTER = timedelta(minutes=10)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_REPO_SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"


@dataclass
class LogBatch:
    """What a log source found: both sources return one."""

    events: list[LogEvent]
    scanned: int  # events read before the filter (local) or returned by the server
    truncated: bool  # max_events was reached


def env_flag(value: str | None) -> bool | None:
    """``"1"``/``"true"`` -> True, unset/``"0"``/``"false"`` -> False, anything else -> None."""
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    return False if text in _FALSE else None


def sample_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the shipped sample tickets and logs are; ``TASKCRAFT_SAMPLE_DIR`` overrides."""
    override = (env or {}).get("TASKCRAFT_SAMPLE_DIR", "").strip()
    return Path(override) if override else _REPO_SAMPLE_DIR


def url_problem(variable: str, value: str) -> str | None:
    """Why ``value`` is not a usable base URL, or None. Plain http only for loopback tests."""
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        return f"{variable} must be a full URL such as https://example.com, not {value!r}."
    if url.scheme == "http" and url.host not in _LOOPBACK_HOSTS:
        return f"{variable} must use https: credentials are sent with every request."
    return None


def retry_after(response: httpx.Response) -> timedelta | None:
    """The server's ``Retry-After`` (seconds or an HTTP date), capped at MAX_RETRY_AFTER.

    None (no usable hint, or a date already past) leaves the delay to the retry policy.
    """
    header = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(header)
        delay = timedelta(seconds=seconds if math.isfinite(seconds) else -1)
    except ValueError:
        try:
            delay = parsedate_to_datetime(header) - datetime.now(UTC)
        except (TypeError, ValueError, IndexError):
            return None
    if delay <= timedelta(0):
        return None
    return min(delay, MAX_RETRY_AFTER)


def is_transient(status_code: int) -> bool:
    return status_code == 429 or status_code >= 500


def transient_error(
    service: str, response: httpx.Response, detail: str = "", *, limited: bool | None = None
) -> ApplicationError:
    """A retryable failure carrying the server's requested delay, for Temporal to honour.

    ``limited`` marks a rate limit that arrives without a 429 (AWS throttles with 400).
    """
    limited = response.status_code == 429 if limited is None else limited
    what = "rate-limited us" if limited else f"answered HTTP {response.status_code}"
    return ApplicationError(
        f"{service} {what}{': ' + detail if detail else ''}; Temporal will retry.",
        type=CONNECTOR_RATE_LIMITED if limited else CONNECTOR_UNAVAILABLE,
        next_retry_delay=retry_after(response),
    )


def heartbeat(*details: object) -> None:
    """Report progress between pages when running as an activity; a no-op in tests."""
    if activity.in_activity():
        activity.heartbeat(*details)
