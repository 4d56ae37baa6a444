"""Jira issue search for the incident report, over the REST API or the shipped sample.

Jira Cloud removed ``/rest/api/3/search``; its replacement ``/rest/api/3/search/jql``
pages with ``nextPageToken``. Jira Server and Data Center still page with
``startAt``/``total`` on ``/rest/api/2/search``. ``JIRA_SEARCH_API`` picks one
(``jql``, the default, or ``classic``); both are sent as POST so long JQL never hits a
URL length limit.

Without ``JIRA_BASE_URL`` (or with ``TASKCRAFT_SAMPLE_DATA=1``) the tool reads the
sample tickets instead, and says so in ``source``. The sample source is not a JQL engine:
it understands ``project = KEY``, ``created >= "YYYY-MM-DD"`` and
``created < "YYYY-MM-DD"`` joined by AND (the form ``ReportWindow.jira_jql`` writes),
takes dates as UTC midnight, and reports any other clause it ignored in ``notes``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
from incidents.connectors.common import (
    env_flag,
    heartbeat,
    is_transient,
    sample_data_dir,
    transient_error,
    url_problem,
)
from incidents.data import IncidentStats, Ticket, compute_stats
from pydantic import BaseModel, Field, ValidationError

from taskcraft.errors import ConfigError
from taskcraft.tools import Tool, ToolContext, ToolError, ToolResult

REPORT_FIELDS = (
    "summary",
    "priority",
    "status",
    "created",
    "resolutiondate",
    "labels",
    "components",
)
PAGE_SIZE = 100
SEARCH_APIS = ("jql", "classic")
_PATHS = {"jql": "/rest/api/3/search/jql", "classic": "/rest/api/2/search"}


@dataclass(frozen=True)
class JiraSettings:
    base_url: str = ""
    email: str = ""
    api_token: str = field(default="", repr=False)
    bearer_token: str = field(default="", repr=False)
    search_api: str = "jql"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> JiraSettings:
        return cls(
            base_url=env.get("JIRA_BASE_URL", "").strip().rstrip("/"),
            email=env.get("JIRA_EMAIL", "").strip(),
            api_token=env.get("JIRA_API_TOKEN", "").strip(),
            bearer_token=env.get("JIRA_BEARER_TOKEN", "").strip(),
            search_api=env.get("JIRA_SEARCH_API", "jql").strip().lower() or "jql",
        )

    @property
    def credential_variables(self) -> str:
        return "JIRA_BEARER_TOKEN" if self.bearer_token else "JIRA_EMAIL and JIRA_API_TOKEN"

    def problems(self) -> list[str]:
        """Everything wrong with this configuration, each naming the variable to fix."""
        if not self.base_url:
            return ["JIRA_BASE_URL is not set (for example https://your-site.atlassian.net)."]
        found = [p for p in [url_problem("JIRA_BASE_URL", self.base_url)] if p]
        if self.search_api not in SEARCH_APIS:
            found.append(f"JIRA_SEARCH_API must be 'jql' or 'classic', not {self.search_api!r}.")
        if self.bearer_token:
            return found
        if not self.email and not self.api_token:
            found.append(
                "Jira credentials are missing: set JIRA_EMAIL and JIRA_API_TOKEN "
                "(Jira Cloud) or JIRA_BEARER_TOKEN (a Server/Data Center personal access token)."
            )
        elif not self.api_token:
            found.append("JIRA_API_TOKEN is not set; JIRA_EMAIL needs it for basic auth.")
        elif not self.email:
            found.append("JIRA_EMAIL is not set; JIRA_API_TOKEN needs it for basic auth.")
        return found

    def validate(self) -> None:
        if found := self.problems():
            raise ConfigError(" ".join(found))

    def authorization(self) -> str:
        if self.bearer_token:
            return f"Bearer {self.bearer_token}"
        pair = f"{self.email}:{self.api_token}".encode()
        return f"Basic {base64.b64encode(pair).decode()}"


def ticket_from_jira(issue: Mapping[str, Any]) -> Ticket:
    """Map one issue of a search response to a Ticket; unset priority/status stay readable."""
    fields = issue.get("fields") or {}
    try:
        return Ticket(
            key=issue["key"],
            summary=fields.get("summary") or "",
            priority=(fields.get("priority") or {}).get("name") or "None",
            status=(fields.get("status") or {}).get("name") or "Unknown",
            created=fields["created"],
            resolved=fields.get("resolutiondate"),
            labels=sorted(fields.get("labels") or []),
            components=sorted(c["name"] for c in fields.get("components") or []),
        )
    except (KeyError, TypeError, ValidationError) as exc:
        key = issue.get("key", "an issue")
        raise ToolError(f"Jira returned {key} without a usable field ({exc}).") from exc


class JiraClient:
    def __init__(self, http: httpx.AsyncClient, settings: JiraSettings) -> None:
        settings.validate()
        self._http = http
        self._settings = settings

    async def search(
        self, jql: str, fields: Sequence[str] = REPORT_FIELDS, max_results: int = 200
    ) -> list[Ticket]:
        """Every issue the JQL matches, up to ``max_results``, following the pages."""
        classic = self._settings.search_api == "classic"
        issues: list[Mapping[str, Any]] = []
        token: str | None = None
        while len(issues) < max_results:
            body: dict[str, Any] = {
                "jql": jql,
                "fields": list(fields),
                "maxResults": min(PAGE_SIZE, max_results - len(issues)),
            }
            if classic:
                body["startAt"] = len(issues)
            elif token:
                body["nextPageToken"] = token
            page = await self._post(_PATHS[self._settings.search_api], body)
            found = page.get("issues") or []
            issues.extend(found)
            heartbeat(len(issues))
            if classic:
                done = not found or len(issues) >= int(page.get("total") or 0)
            else:
                next_token = page.get("nextPageToken")
                done = not found or bool(page.get("isLast")) or not next_token
                done = done or next_token == token  # a server repeating itself
                token = next_token
            if done:
                break
        return [ticket_from_jira(issue) for issue in issues[:max_results]]

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        url = self._settings.base_url + path
        headers = {"Authorization": self._settings.authorization(), "Accept": "application/json"}
        response = await self._http.post(url, json=body, headers=headers)
        status = response.status_code
        if status in (401, 403):
            raise ToolError(
                f"Jira refused the credentials in {self._settings.credential_variables} "
                f"(HTTP {status}): check they are current and may browse the project."
            )
        if is_transient(status):
            raise transient_error("Jira", response)
        if status == 404:
            raise ToolError(
                f"Jira has no search endpoint at {url}: check JIRA_BASE_URL, and set "
                "JIRA_SEARCH_API=classic for Jira Server or Data Center."
            )
        if status >= 400:
            raise ToolError(f"Jira rejected the search (HTTP {status}): {_jira_messages(response)}")
        try:
            data = response.json()
        except ValueError as exc:
            raise ToolError(
                f"Jira answered {url} with something other than JSON: is JIRA_BASE_URL the "
                "Jira site itself (not a login page or proxy)?"
            ) from exc
        if not isinstance(data, dict):
            raise ToolError(f"Jira answered {url} with unexpected JSON.")
        return data


def _jira_messages(response: httpx.Response) -> str:
    try:
        data = response.json()
        messages = list(data.get("errorMessages") or []) + list((data.get("errors") or {}).values())
    except (ValueError, AttributeError):
        messages = []
    return "; ".join(str(m) for m in messages) or response.text[:300]


_PROJECT = re.compile(r'\bproject\s*=\s*"?([A-Za-z][A-Za-z0-9_]*)"?', re.I)
_CREATED = re.compile(r'\bcreated\s*(>=|<)\s*"?(\d{4}-\d{2}-\d{2})"?', re.I)
_ORDER_BY = re.compile(r"\border\s+by\b.*$", re.I | re.S)
_AND = re.compile(r"\band\b", re.I)


class SampleJiraSource:
    """Tickets from a saved search response, filtered by the report's JQL shape."""

    def __init__(self, folder: Path) -> None:
        self._path = folder / "tickets.json"

    async def search(self, jql: str, max_results: int) -> tuple[list[Ticket], list[str]]:
        issues = await asyncio.to_thread(self._load)
        project = _PROJECT.search(jql)
        bounds = {
            op: datetime.fromisoformat(day).replace(tzinfo=UTC) for op, day in _CREATED.findall(jql)
        }
        leftover = _AND.sub(" ", _CREATED.sub(" ", _PROJECT.sub(" ", _ORDER_BY.sub(" ", jql))))
        notes = [
            "Sample data: the tickets shipped in examples/incident_report/sample_data, not a live Jira."
        ]
        if leftover.strip():
            notes.append(
                "The sample source understands only project =, created >= and created < "
                f"joined by AND; it ignored: {' '.join(leftover.split())}"
            )
        tickets = []
        for ticket in sorted(
            (ticket_from_jira(i) for i in issues), key=lambda t: (t.created, t.key)
        ):
            if project and ticket.key.split("-")[0].upper() != project[1].upper():
                continue
            if ">=" in bounds and ticket.created < bounds[">="]:
                continue
            if "<" in bounds and ticket.created >= bounds["<"]:
                continue
            tickets.append(ticket)
        return tickets[:max_results], notes

    def _load(self) -> list[dict[str, Any]]:
        try:
            issues = json.loads(self._path.read_text(encoding="utf-8"))["issues"]
        except (OSError, ValueError, KeyError) as exc:
            raise ToolError(
                f"The sample tickets at {self._path} cannot be read ({exc}); set "
                "TASKCRAFT_SAMPLE_DIR to the examples/incident_report/sample_data folder."
            ) from exc
        return list(issues)


class JiraSearchArgs(BaseModel):
    jql: str = Field(
        min_length=1, description='The JQL query, e.g. project = INC AND created >= "2026-11-16"'
    )
    max_results: int = Field(default=200, ge=1, le=1000)


class JiraSearchResult(BaseModel):
    source: Literal["sample", "jira"]
    jql: str
    count: int
    truncated: bool = False  # max_results was reached; more tickets may match
    notes: list[str] = Field(default_factory=list)
    stats: IncidentStats  # first, so a model shown a truncated observation still has it
    tickets: list[Ticket]


def uses_sample_jira(env: Mapping[str, str]) -> bool:
    return (
        bool(env_flag(env.get("TASKCRAFT_SAMPLE_DATA"))) or not env.get("JIRA_BASE_URL", "").strip()
    )


async def _run_jira_search(args: JiraSearchArgs, ctx: ToolContext) -> ToolResult:
    """The whole result for the model to read; the statistics, as data, for the workflow."""
    result = await _search(args, ctx)
    data = result.model_dump(mode="json", include={"source", "count", "truncated", "stats"})
    return ToolResult(text=result.model_dump_json(indent=1), data=data)


async def _search(args: JiraSearchArgs, ctx: ToolContext) -> JiraSearchResult:
    notes: list[str] = []
    if uses_sample_jira(ctx.env):
        source: Literal["sample", "jira"] = "sample"
        tickets, notes = await SampleJiraSource(sample_data_dir(ctx.env)).search(
            args.jql, args.max_results
        )
    else:
        source = "jira"
        try:
            client = JiraClient(ctx.http, JiraSettings.from_env(ctx.env))
        except ConfigError as exc:
            raise ToolError(str(exc)) from exc
        tickets = await client.search(args.jql, max_results=args.max_results)
    return JiraSearchResult(
        source=source,
        jql=args.jql,
        count=len(tickets),
        truncated=len(tickets) >= args.max_results,
        notes=notes,
        stats=compute_stats(tickets),
        tickets=tickets,
    )


def jira_search_tool() -> Tool[JiraSearchArgs]:
    return Tool(
        name="jira_search",
        description=(
            "Search Jira issues with JQL and get them back with report statistics "
            "(counts by priority and component, MTTR, recurring failures). Reads the "
            "shipped sample tickets when no Jira is configured; `source` says which."
        ),
        args_model=JiraSearchArgs,
        run=_run_jira_search,
        timeout_s=120.0,
        max_observation_chars=40_000,
    )
