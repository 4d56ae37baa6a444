"""Posting the report to Slack at most once per idempotency key, and recording what was sent.

The sink follows the configuration: ``SLACK_BOT_TOKEN`` + ``SLACK_CHANNEL`` posts with
chat.postMessage; else ``SLACK_WEBHOOK_URL`` posts to an incoming webhook; else the
message is appended to ``{data_dir}/outbox/slack.jsonl`` (the offline demo).

How each sink keeps a retried activity from posting twice:

* outbox: check-then-append under an exclusive ``flock``; a crash after the append is
  seen by the retry, which returns ``already_sent=True`` and writes nothing.
* chat.postMessage: the message carries the key in Slack message metadata; before
  posting we read the channel's recent history (``HISTORY_LIMIT`` messages) and return
  the earlier message if one carries the key. The channel must be an ID (C0123...),
  because conversations.history accepts nothing else.
* incoming webhook: Slack gives no way to ask what was posted, so the tool declares
  itself at most once (``side_effects``): it is attempted once, a failure that proves
  nothing was posted (connection refused, 429: ``NotDelivered``) is tried again, and any
  other (the worker died mid-post, a timeout, a 5xx) makes the task ask an operator to
  check the channel, then resend or mark it as sent. A local ledger of keys, written
  once Slack accepts, still keeps a resend after a confirmed post from posting twice.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

import httpx
from incidents.connectors.common import is_transient, transient_error, url_problem
from pydantic import BaseModel, Field

from taskcraft.agents import ToolRetry
from taskcraft.errors import ConfigError
from taskcraft.tools import NotDelivered, SideEffects, Tool, ToolContext, ToolError, ToolResult

Sink = Literal["outbox", "webhook", "chat"]
SLACK_API_URL = "https://slack.com/api"
METADATA_EVENT_TYPE = "taskcraft_message"
HISTORY_LIMIT = 50
OUTBOX_FILE = "slack.jsonl"
WEBHOOK_LEDGER_FILE = "slack-webhook-ledger.jsonl"
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
_TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "missing_scope", "no_permission", "not_allowed_token_type", "ekm_access_denied"})  # fmt: skip
_CHANNEL_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived", "restricted_action"})  # fmt: skip
_TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})  # fmt: skip


@dataclass(frozen=True)
class SlackSettings:
    outbox_dir: Path
    webhook_url: str = field(default="", repr=False)  # the URL itself is the secret
    bot_token: str = field(default="", repr=False)
    channel: str = ""
    api_url: str = SLACK_API_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str], data_dir: Path) -> SlackSettings:
        return cls(
            outbox_dir=data_dir / "outbox",
            webhook_url=env.get("SLACK_WEBHOOK_URL", "").strip(),
            bot_token=env.get("SLACK_BOT_TOKEN", "").strip(),
            channel=env.get("SLACK_CHANNEL", "").strip(),
            api_url=(env.get("SLACK_API_URL", "").strip() or SLACK_API_URL).rstrip("/"),
        )

    @property
    def sink(self) -> Sink:
        if self.bot_token:
            return "chat"
        return "webhook" if self.webhook_url else "outbox"

    def problems(self) -> list[str]:
        found = []
        if self.bot_token:
            if not self.bot_token.startswith("xoxb-"):
                found.append("SLACK_BOT_TOKEN must be a bot token (it starts with xoxb-).")
            if not self.channel:
                found.append(
                    "SLACK_CHANNEL is not set; SLACK_BOT_TOKEN needs a channel ID to post to."
                )
            elif not _CHANNEL_ID.match(self.channel):
                found.append(
                    f"SLACK_CHANNEL must be a channel ID such as C0123ABCDEF, not {self.channel!r} "
                    "(the duplicate check reads conversations.history, which takes IDs only)."
                )
            if problem := url_problem("SLACK_API_URL", self.api_url):
                found.append(problem)
        elif self.webhook_url:
            if problem := url_problem("SLACK_WEBHOOK_URL", self.webhook_url):
                found.append(problem)
        elif self.channel:
            found.append("SLACK_CHANNEL is set but SLACK_BOT_TOKEN is not; set both, or neither.")
        return found

    def validate(self) -> None:
        if found := self.problems():
            raise ConfigError(" ".join(found))


class SentMessage(BaseModel):
    sink: Sink
    channel: str | None = None
    ts: str | None = None  # Slack's message id; None for the webhook and the outbox
    idempotency_key: str
    text_sha256: str  # of the text that was sent (the first time, if already_sent)
    already_sent: bool = False


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class SlackSender:
    def __init__(self, http: httpx.AsyncClient, settings: SlackSettings) -> None:
        settings.validate()
        self._http = http
        self._settings = settings

    async def send(
        self,
        text: str,
        idempotency_key: str,
        blocks: list[dict[str, Any]] | None = None,
        channel: str | None = None,
    ) -> SentMessage:
        """Post once per key; a repeat returns the first send with ``already_sent=True``."""
        if not idempotency_key:
            raise ValueError("an idempotency key is required")
        sink = self._settings.sink
        if sink == "chat":
            return await self._send_chat(
                text, idempotency_key, blocks, channel or self._settings.channel
            )
        record: dict[str, Any] = {"idempotency_key": idempotency_key, "text_sha256": _sha256(text)}
        if sink == "webhook":
            found = await self._send_webhook(text, blocks, record)
        else:
            record |= {"channel": channel, "text": text, "blocks": blocks}
            found = await asyncio.to_thread(
                _append_once, self._settings.outbox_dir / OUTBOX_FILE, record
            )
        return SentMessage(
            sink=sink,
            channel=None if sink == "webhook" else (found or record).get("channel"),
            idempotency_key=idempotency_key,
            text_sha256=(found or record)["text_sha256"],
            already_sent=found is not None,
        )

    async def _send_chat(
        self, text: str, key: str, blocks: list[dict[str, Any]] | None, channel: str
    ) -> SentMessage:
        if not _CHANNEL_ID.match(channel):
            raise ToolError(f"Slack channel {channel!r} is not a channel ID such as C0123ABCDEF.")
        params = {"channel": channel, "limit": str(HISTORY_LIMIT), "include_all_metadata": "true"}
        history = await self._api("conversations.history", params=params)
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == METADATA_EVENT_TYPE
                and payload.get("idempotency_key") == key
            ):
                return SentMessage(
                    sink="chat",
                    channel=channel,
                    ts=message.get("ts"),
                    idempotency_key=key,
                    text_sha256=payload.get("text_sha256") or _sha256(message.get("text", "")),
                    already_sent=True,
                )
        digest = _sha256(text)
        body: dict[str, Any] = {
            "channel": channel,
            "text": text,
            "metadata": {
                "event_type": METADATA_EVENT_TYPE,
                "event_payload": {"idempotency_key": key, "text_sha256": digest},
            },
        }
        if blocks:
            body["blocks"] = blocks
        posted = await self._api("chat.postMessage", body=body)
        return SentMessage(
            sink="chat",
            channel=posted.get("channel") or channel,
            ts=posted.get("ts"),
            idempotency_key=key,
            text_sha256=digest,
        )

    async def _api(
        self,
        method: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        url = f"{self._settings.api_url}/{method}"
        headers = {"Authorization": f"Bearer {self._settings.bot_token}"}
        if body is None:
            response = await self._http.get(url, params=params, headers=headers)
        else:
            headers["Content-Type"] = "application/json; charset=utf-8"
            response = await self._http.post(
                url, content=json.dumps(body).encode(), headers=headers
            )
        if is_transient(response.status_code):
            raise transient_error("Slack", response, method)
        if response.status_code >= 400:
            raise ToolError(
                f"Slack answered HTTP {response.status_code} to {method}; check SLACK_BOT_TOKEN."
            )
        data = response.json()
        if data.get("ok"):
            return dict(data)
        error = str(data.get("error") or "unknown_error")
        if error in _TRANSIENT_ERRORS:
            raise transient_error(
                "Slack", response, f"{method}: {error}", limited=error == "ratelimited"
            )
        if error in _TOKEN_ERRORS:
            hint = "check SLACK_BOT_TOKEN and its scopes (chat:write, channels:history, groups:history)"
        elif error in _CHANNEL_ERRORS:
            hint = "check SLACK_CHANNEL (or the channel argument), and invite the bot to it"
        else:
            hint = "the message itself was refused"
        raise ToolError(f"Slack refused {method} with {error!r}: {hint}.")

    async def _send_webhook(
        self, text: str, blocks: list[dict[str, Any]] | None, record: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The ledger stays locked across the POST, so two workers on one host cannot both send."""
        handle = await asyncio.to_thread(
            _open_locked, self._settings.outbox_dir / WEBHOOK_LEDGER_FILE
        )
        try:
            found = await asyncio.to_thread(_find, handle, record["idempotency_key"])
            if found is not None:
                return found
            payload: dict[str, Any] = {"text": text} | ({"blocks": blocks} if blocks else {})
            try:
                response = await self._http.post(self._settings.webhook_url, json=payload)
            except httpx.ConnectError as error:
                raise NotDelivered(f"the Slack webhook cannot be reached ({error})") from error
            if response.status_code == 429:
                raise NotDelivered("the Slack webhook rate-limited us; nothing was posted")
            if is_transient(response.status_code):
                raise transient_error("The Slack webhook", response, response.text[:100])
            if response.status_code >= 400:
                raise ToolError(
                    f"The Slack webhook refused the message (HTTP {response.status_code}: "
                    f"{response.text[:100]}); check SLACK_WEBHOOK_URL."
                )
            await asyncio.to_thread(_append, handle, record)
            return None
        finally:
            await asyncio.to_thread(_close_unlocked, handle)


def _open_locked(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+b")  # binary: seeking to the last byte is safe whatever it is
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def _close_unlocked(handle: IO[bytes]) -> None:
    try:
        fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def _find(handle: IO[bytes], key: str) -> dict[str, Any] | None:
    handle.seek(0)
    for line in handle:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line torn by a crash mid-write never completed a send
        if isinstance(record, dict) and record.get("idempotency_key") == key:
            return record
    return None


def _append(handle: IO[bytes], record: dict[str, Any]) -> None:
    size = handle.seek(0, os.SEEK_END)
    if size:
        handle.seek(size - 1)
        if handle.read(1) != b"\n":
            handle.write(b"\n")  # end a torn line so this record stays whole
    stamped = record | {"recorded_at": datetime.now(UTC).isoformat()}
    handle.write(json.dumps(stamped, sort_keys=True).encode() + b"\n")
    handle.flush()
    os.fsync(handle.fileno())


def _append_once(path: Path, record: dict[str, Any]) -> dict[str, Any] | None:
    """Append unless the key is there; returns the earlier record if it was."""
    handle = _open_locked(path)
    try:
        found = _find(handle, record["idempotency_key"])
        if found is None:
            _append(handle, record)
        return found
    finally:
        _close_unlocked(handle)


class SendSlackArgs(BaseModel):
    text: str = Field(min_length=1, max_length=40_000, description="The message, in Slack mrkdwn")
    channel: str | None = Field(
        default=None,
        description="Channel ID (C0123...) for the bot-token sink; defaults to SLACK_CHANNEL. "
        "An incoming webhook always posts to its own channel.",
    )


async def _run_send_slack(args: SendSlackArgs, ctx: ToolContext) -> ToolResult:
    try:
        sender = SlackSender(ctx.http, SlackSettings.from_env(ctx.env, ctx.data_dir))
    except ConfigError as exc:
        raise ToolError(str(exc)) from exc
    sent = await sender.send(args.text, ctx.idempotency_key, channel=args.channel)
    return ToolResult(text=sent.model_dump_json(indent=1), data=sent.model_dump(mode="json"))


def side_effects(env: Mapping[str, str]) -> SideEffects:
    """A webhook cannot de-duplicate: at most once, with a gate when the outcome is unknown.

    chat.postMessage reconciles through message metadata and the outbox checks its own
    file, so a retry of either is safe.
    """
    sink = SlackSettings.from_env(env, Path(".")).sink
    return SideEffects.AT_MOST_ONCE if sink == "webhook" else SideEffects.IDEMPOTENT


def send_slack_message_tool() -> Tool[SendSlackArgs]:
    return Tool(
        name="send_slack_message",
        description=(
            "Post a message to Slack (or to the local outbox when Slack is not configured). "
            "Sent at most once per call; the result records the sink, channel and a hash of "
            "the text."
        ),
        args_model=SendSlackArgs,
        run=_run_send_slack,
        timeout_s=60.0,
        retry=ToolRetry(maximum_attempts=5, maximum_interval_s=120.0),
        requires_approval=True,
        side_effects_for=side_effects,
    )
