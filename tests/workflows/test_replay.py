"""Histories recorded from real runs replay on the current workflow code.

If this fails, a change to workflow code would break tasks that are already running:
guard the change with ``workflow.patched`` instead of re-recording.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from infra.catalog import catalog_for
from infra.connection import data_converter
from infra.settings import Settings
from infra.worker_factory import workflow_runner
from workflows import WORKFLOWS

# The shipped agents' workflows (the incident report's lives in its example folder).
SHIPPED = catalog_for(Settings())
HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))
TEXTS = {path: path.read_text() for path in HISTORIES}


def test_there_are_saved_histories() -> None:
    assert len(HISTORIES) >= 3


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_saved_history_replays(path: Path) -> None:
    text = TEXTS[path]
    workflow_id = json.loads(text)["events"][0]["workflowExecutionStartedEventAttributes"].get(
        "workflowId", path.stem
    )
    replayer = Replayer(
        workflows=[*WORKFLOWS, *SHIPPED.workflows],
        data_converter=data_converter(Settings()),
        workflow_runner=workflow_runner(),
    )
    result = await replayer.replay_workflow(WorkflowHistory.from_json(workflow_id, text))
    assert result.replay_failure is None
