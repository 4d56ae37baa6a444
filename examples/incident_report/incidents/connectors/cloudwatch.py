"""AWS CloudWatch Logs FilterLogEvents over httpx, signed with botocore's SigV4.

botocore is an optional extra (``taskcraft[aws]``) and untyped, so it is imported on
first use through ``import_module`` (typed ``Any``): the rest of Taskcraft neither
needs it installed nor loses strict typing. Signing is always botocore's, never ours.

Credentials come from ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``
when the worker's environment has them, else from botocore's own chain (``AWS_PROFILE``,
SSO, instance or task roles). AWS reports throttling as HTTP 400 with a
``ThrottlingException`` type, so errors are told apart by ``__type``, not status alone.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import import_module
from importlib.util import find_spec
from typing import Any

import httpx
from incidents.connectors.common import (
    LogBatch,
    heartbeat,
    is_transient,
    transient_error,
    url_problem,
)
from incidents.data import LogEvent

from taskcraft.aws_settings import AwsAccess, first_set
from taskcraft.errors import ConfigError
from taskcraft.tools import ToolError

CLOUDWATCH_PAGE_LIMIT = 10_000  # the most FilterLogEvents returns per call
_AWS_THROTTLED = frozenset({"ThrottlingException", "LimitExceededException", "ServiceUnavailableException"})  # fmt: skip
_AWS_AUTH = frozenset({"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "AccessDeniedException", "IncompleteSignature", "MissingAuthenticationToken"})  # fmt: skip
_LEVEL_IN_TEXT = re.compile(r"\b(CRITICAL|FATAL|ERROR|WARN(?:ING)?|INFO|DEBUG|TRACE)\b")
_NO_BOTOCORE = (
    "TASKCRAFT_LOG_SOURCE=cloudwatch signs requests with botocore: install taskcraft[aws]"
)
AWS_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) or AWS_PROFILE"
)


@dataclass(frozen=True)
class CloudWatchSettings(AwsAccess):
    log_group: str = ""
    endpoint_url: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CloudWatchSettings:
        return cls(
            **asdict(AwsAccess.from_env(env)),
            log_group=first_set(env, "CLOUDWATCH_LOG_GROUP"),
            # The variables botocore itself reads for a custom endpoint (LocalStack, tests).
            endpoint_url=first_set(env, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "AWS_ENDPOINT_URL"),
        )

    def problems(self) -> list[str]:
        found = [] if find_spec("botocore") else [f"{_NO_BOTOCORE}."]
        if not self.region:
            found.append("AWS_REGION is not set (the region of the log group, e.g. eu-west-1).")
        if not self.log_group:
            found.append("CLOUDWATCH_LOG_GROUP is not set (the log group to search).")
        found += super().problems()
        if self.endpoint_url and (problem := url_problem("AWS_ENDPOINT_URL", self.endpoint_url)):
            found.append(problem)
        return found

    def validate(self) -> None:
        if found := self.problems():
            raise ConfigError(" ".join(found))


def _botocore(module: str) -> Any:
    """botocore is an optional, untyped extra: imported on first use, typed as Any."""
    try:
        return import_module(f"botocore.{module}")
    except ImportError as exc:
        raise ToolError(f"{_NO_BOTOCORE}, and it is not installed.") from exc


class CloudWatchLogSource:
    def __init__(self, http: httpx.AsyncClient, settings: CloudWatchSettings) -> None:
        settings.validate()
        self._http = http
        self._settings = settings
        self._url = (
            settings.endpoint_url or f"https://logs.{settings.region}.amazonaws.com"
        ).rstrip("/") + "/"
        self._credentials: Any = None

    async def query(
        self, start: datetime, end: datetime, filter_pattern: str, max_events: int
    ) -> LogBatch:
        events: list[LogEvent] = []
        scanned, token = 0, None
        body: dict[str, Any] = {
            "logGroupName": self._settings.log_group,
            "startTime": _millis(start),
            "endTime": _millis(end) - 1,  # both bounds are inclusive; the window is not
        }
        if filter_pattern:
            body["filterPattern"] = filter_pattern
        while True:
            body["limit"] = min(CLOUDWATCH_PAGE_LIMIT, max_events - len(events))
            page = await self._call("FilterLogEvents", body)
            found = page.get("events") or []
            scanned += len(found)
            events.extend(self._event(raw) for raw in found)
            heartbeat(scanned)
            next_token = page.get("nextToken")
            if len(events) >= max_events or not next_token or next_token == token:
                break
            token = body["nextToken"] = next_token
        return LogBatch(
            events=events[:max_events],
            scanned=scanned,
            truncated=len(events) >= max_events and bool(next_token),
        )

    def _event(self, raw: Mapping[str, Any]) -> LogEvent:
        """Structured JSON messages keep their fields; plain text gets a level from its words."""
        text = str(raw.get("message", "")).strip()
        fields: dict[str, Any] = {}
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            fields = parsed if isinstance(parsed, dict) else {}
        found = _LEVEL_IN_TEXT.search(text)
        return LogEvent(
            timestamp=datetime.fromtimestamp(int(raw.get("timestamp", 0)) / 1000, UTC),
            level=str(
                fields.get("level") or fields.get("severity") or (found[1] if found else "UNKNOWN")
            ),
            service=str(
                fields.get("service") or self._settings.log_group.rstrip("/").split("/")[-1]
            ),
            message=str(fields.get("message") or fields.get("msg") or text),
        )

    async def _call(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(body).encode()
        headers = await self._signed_headers(action, payload)
        response = await self._http.post(self._url, content=payload, headers=headers)
        if response.status_code == 200:
            data = response.json()
            return data if isinstance(data, dict) else {}
        try:
            error = response.json()
        except ValueError:
            error = None
        error = error if isinstance(error, dict) else {}
        kind = str(error.get("__type", "")).rsplit("#", 1)[-1]
        detail = f"{kind}: {error.get('message') or error.get('Message') or response.text[:200]}"
        if kind in _AWS_THROTTLED or is_transient(response.status_code):
            raise transient_error(
                "CloudWatch Logs", response, detail, limited=kind in _AWS_THROTTLED or None
            )
        if kind in _AWS_AUTH or response.status_code == 403:
            raise ToolError(
                f"AWS refused the credentials ({detail}): check {AWS_CREDENTIAL_VARIABLES}, and "
                "that they allow logs:FilterLogEvents on CLOUDWATCH_LOG_GROUP."
            )
        if kind == "ResourceNotFoundException":
            raise ToolError(
                f"CloudWatch Logs has no log group {self._settings.log_group!r} in "
                f"{self._settings.region}: check CLOUDWATCH_LOG_GROUP and AWS_REGION."
            )
        raise ToolError(f"CloudWatch Logs rejected the query ({detail}); check filter_pattern.")

    async def _signed_headers(self, action: str, payload: bytes) -> dict[str, str]:
        # botocore may read files, call the instance metadata service or refresh
        # credentials while signing: all blocking, so it runs off the event loop.
        return await asyncio.to_thread(self._sign, action, payload)

    def _sign(self, action: str, payload: bytes) -> dict[str, str]:
        if self._credentials is None:
            self._credentials = self._find_credentials()
        request = _botocore("awsrequest").AWSRequest(
            method="POST",
            url=self._url,
            data=payload,
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": f"Logs_20140328.{action}",
            },
        )
        frozen = self._credentials.get_frozen_credentials()
        _botocore("auth").SigV4Auth(frozen, "logs", self._settings.region).add_auth(request)
        return {name: str(value) for name, value in request.headers.items()}

    def _find_credentials(self) -> Any:
        settings = self._settings
        if settings.access_key_id:
            return _botocore("credentials").Credentials(
                settings.access_key_id, settings.secret_access_key, settings.session_token or None
            )
        try:
            found = _botocore("session").Session(profile=settings.profile or None).get_credentials()
        except _botocore("exceptions").BotoCoreError as exc:
            raise ToolError(
                f"AWS credentials could not be loaded ({exc}); check {AWS_CREDENTIAL_VARIABLES}."
            ) from exc
        if found is None:
            raise ToolError(f"No AWS credentials were found: set {AWS_CREDENTIAL_VARIABLES}.")
        return found


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
