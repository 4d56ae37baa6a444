"""What the report's workflow tests share: the example's catalog and a worker that serves it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from infra.catalog import load_catalog
from tests.workflows.conftest import Harness

EXAMPLE = Path(__file__).resolve().parents[2]
# The example exactly as a worker loads it: agent file, tools, workflow, offline responder.
CATALOG = load_catalog([EXAMPLE])
INCIDENT_REPORT = CATALOG.agents["incident-report"]
# Variables the tools' configuration check reads; cleared so the host cannot leak in.
CONNECTOR_VARIABLES = (
    "JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_BEARER_TOKEN", "JIRA_SEARCH_API",
    "SLACK_BOT_TOKEN", "SLACK_CHANNEL", "SLACK_WEBHOOK_URL", "SLACK_API_URL",
    "TASKCRAFT_LOG_SOURCE", "TASKCRAFT_LOG_DIR", "TASKCRAFT_SAMPLE_DATA", "TASKCRAFT_SAMPLE_DIR",
)  # fmt: skip


@asynccontextmanager
async def report_worker(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, env: dict[str, str] | None = None
) -> AsyncIterator[None]:
    """A worker serving the example, approvers alice and bob, no connector configured."""
    env = {"TASKCRAFT_REPORT_APPROVERS": "alice, bob", **(env or {})}
    for name in CONNECTOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    async with harness.worker(catalog=load_catalog([EXAMPLE]), env=env):
        yield
