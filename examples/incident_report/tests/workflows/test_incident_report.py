"""The weekly incident report on a real dev server, on the shipped sample data and offline model.

Approve, reject-then-revise, a worker lost while the task waits, live Jira and Slack
(loopback fakes) with the send's answer lost after Slack stored the message, and a
configuration problem that fails the task before any ticket is queried.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

import pytest
from incidents.workflow import REPORT_QUERY, ReportState
from report_worker import INCIDENT_REPORT, report_worker
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError

from taskcraft.approvals import Decision, DecisionKind, GateKind
from taskcraft.controls import UpdateOutcome
from taskcraft.status import TaskStatus
from taskcraft.task import TaskState, ToolOutcome
from tests.conftest import PROJECT_ROOT
from tests.support import fake_services
from tests.workflows.conftest import Harness
from workflows.search_attributes import STATUS

WEEK = {"week": "2026-W47"}
HEADLINE = "• *32* incidents opened: *25* resolved, *7* still open"


def outbox_lines(harness: Harness) -> list[dict[str, Any]]:
    path = harness.settings.data_dir / "outbox" / "slack.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


async def activity_counts(handle: WorkflowHandle[Any, Any]) -> Counter[str]:
    history = await handle.fetch_history()
    return Counter(
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    )


async def decide(handle: WorkflowHandle[Any, Any], **decision: Any) -> UpdateOutcome:
    outcome: UpdateOutcome = await handle.execute_update(
        "decide_and_confirm", Decision.model_validate(decision), result_type=UpdateOutcome
    )
    return outcome


async def report_of(handle: WorkflowHandle[Any, Any]) -> ReportState:
    report: ReportState = await handle.query(REPORT_QUERY, result_type=ReportState)
    return report


def waiting_at(gate: str) -> Any:
    return lambda s: s.pending is not None and s.pending.gate_id == gate


async def test_approved_report_is_sent_once_and_the_draft_is_shown_while_waiting(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tickets and logs → offline draft → gate with the draft → approve → one outbox line."""
    async with report_worker(harness, monkeypatch):
        handle = await harness.start(INCIDENT_REPORT, "Weekly incident report", inputs=WEEK)
        waiting = await harness.wait_for(handle, waiting_at("g1"))
        waiting_report = await report_of(handle)
        metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
        with pytest.raises(WorkflowUpdateFailedError):
            await decide(handle, kind="approve", approver="mallory")
        outcome = await decide(handle, kind="approve", approver="alice", comment="ship it")
        result = await handle.result()
        state = await harness.state(handle)
        report = await report_of(handle)
    pending = waiting.pending
    assert pending is not None
    assert waiting.status is TaskStatus.AWAITING_APPROVAL
    assert (pending.kind, pending.approvers, pending.tool) == (
        GateKind.CHECKPOINT,
        ["alice", "bob"],
        None,
    )
    draft = waiting_report.draft
    assert pending.draft == draft
    assert draft.startswith("[offline model] *Weekly incident report: 2026-W47*\n")
    assert HEADLINE in draft
    assert "• Mean time to resolve: *12.0 h* over 25 resolved" in draft
    assert "• 1377 error log events out of 4108 scanned" in draft
    # The Temporal UI's current details show the draft (its first 1,500 characters).
    assert "Draft:\n\n" + draft[:1500] in metadata.current_details
    assert "Who may decide: alice, bob" in metadata.current_details
    assert outcome.message == "approve recorded for gate g1 by alice"
    assert result.status is TaskStatus.COMPLETED
    assert result.result == (
        f"Sent the INC incident report for 2026-W47 to outbox, approved by alice.\n\n{draft}"
    )
    [line] = outbox_lines(harness)
    assert line["text"] == draft
    assert line["idempotency_key"] == f"{handle.id}/3/send_slack_message-3"
    assert report.sent is not None
    assert report.sent.model_dump() == {
        "sink": "outbox",
        "channel": None,
        "ts": None,
        "text_sha256": hashlib.sha256(draft.encode()).hexdigest(),
        "already_sent": False,
    }
    assert report.model_dump(include={"week", "project", "tickets", "log_events"}) == {
        "week": "2026-W47",
        "project": "INC",
        "tickets": 32,
        "log_events": 4108,
    }
    assert report.sources == {"tickets": "sample", "logs": "sample"}
    assert [(s.step, s.model, [c.name for c in s.tool_calls]) for s in state.steps] == [
        (1, "workflow", ["jira_search", "query_logs"]),
        (2, "offline:analyst", []),
        (3, "workflow", ["send_slack_message"]),
    ]
    assert all(c.outcome is ToolOutcome.OK for s in state.steps for c in s.tool_calls)
    assert [(d.gate_id, d.kind, d.approver, d.applied) for d in state.decisions] == [
        ("g1", DecisionKind.APPROVE, "alice", True)
    ]
    assert [(a.tool, a.effect.value, a.rule_id) for a in state.audit] == [
        ("jira_search", "allow", "jira-search"),
        ("query_logs", "allow", "query-logs"),
        ("send_slack_message", "require_approval", "slack-needs-approval"),
    ]
    assert state.gate_seq == 1  # the draft's approval covered the send: asked once
    assert await activity_counts(handle) == {
        "taskcraft.agent.pin": 1,
        "taskcraft.tool.run": 3,
        "taskcraft.model.complete": 1,
        "taskcraft.notify.gate": 1,
    }
    description = await handle.describe()
    assert description.typed_search_attributes.get(STATUS) == "COMPLETED"


async def test_rejection_with_a_reason_gets_a_revised_draft_and_a_new_gate(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reason goes back to the model; only the approved revision is sent."""
    async with report_worker(harness, monkeypatch):
        handle = await harness.start(INCIDENT_REPORT, "Weekly incident report", inputs=WEEK)
        await harness.wait_for(handle, waiting_at("g1"))
        first_report = await report_of(handle)
        reason = "leave out internal ticket numbers"
        await decide(handle, kind="reject", approver="bob", reason=reason)
        second = await harness.wait_for(handle, waiting_at("g2"))
        second_report = await report_of(handle)
        await decide(handle, kind="approve", approver="alice", gate_id="g2")
        result = await handle.result()
        state = await harness.state(handle)
        history = await handle.fetch_history()
    original, revised = first_report.draft, second_report.draft
    assert second.pending is not None
    assert second.pending.draft == revised
    assert "INC-1201" in original
    assert "INC-" not in revised
    assert HEADLINE in revised
    assert revised.endswith(f"_Revised after review: {reason}_\n{revised.splitlines()[-1]}")
    assert second_report.revisions == 1
    assert result.status is TaskStatus.COMPLETED
    [line] = outbox_lines(harness)
    assert line["text"] == revised
    assert [(d.gate_id, d.kind, d.approver) for d in state.decisions] == [
        ("g1", DecisionKind.REJECT, "bob"),
        ("g2", DecisionKind.APPROVE, "alice"),
    ]
    assert [s.model for s in state.steps] == [
        "workflow",
        "offline:analyst",
        "offline:analyst",
        "workflow",
    ]
    # The revision continues the conversation by reference: only the request is new.
    model_inputs = [
        json.loads(e.activity_task_scheduled_event_attributes.input.payloads[0].data)
        for e in history.events
        if e.activity_task_scheduled_event_attributes.activity_type.name
        == "taskcraft.model.complete"
    ]
    assert [m["role"] for m in model_inputs[0]["new_messages"]] == ["system", "user"]
    assert model_inputs[1]["conversation_ref"]
    [request] = model_inputs[1]["new_messages"]
    assert request["content"].endswith(f"Reason: {reason}")
    assert request["content"].startswith("Revision requested by bob")


async def test_an_edited_draft_is_sent_as_edited_without_a_second_gate(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`taskcraft edit --draft`: the manager's own text is what reaches Slack."""
    edited = "*Weekly incident report: 2026-W47*\nA quiet week apart from payments; details Monday."
    async with report_worker(harness, monkeypatch):
        handle = await harness.start(INCIDENT_REPORT, "Weekly incident report", inputs=WEEK)
        await harness.wait_for(handle, waiting_at("g1"))
        await decide(handle, kind="edit", approver="bob", draft=edited)
        result = await handle.result()
        state = await harness.state(handle)
        report = await report_of(handle)
    assert result.status is TaskStatus.COMPLETED
    [line] = outbox_lines(harness)
    assert line["text"] == edited
    assert report.draft == edited
    assert state.gate_seq == 1
    assert [(d.kind, d.approver) for d in state.decisions] == [(DecisionKind.EDIT, "bob")]


async def test_worker_lost_while_waiting_a_new_worker_sends_without_redoing_work(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wait needs no worker; after approval the new worker replays, then sends once."""
    async with report_worker(harness, monkeypatch):
        handle = await harness.start(INCIDENT_REPORT, "Weekly incident report", inputs=WEEK)
        await harness.wait_for(handle, waiting_at("g1"))
        waiting_report = await report_of(handle)
    async with report_worker(harness, monkeypatch):
        assert (await harness.state(handle)).status is TaskStatus.AWAITING_APPROVAL
        await decide(handle, kind="approve", approver="bob")
        result = await handle.result()
    assert result.status is TaskStatus.COMPLETED
    [line] = outbox_lines(harness)
    assert line["text"] == waiting_report.draft
    assert await activity_counts(handle) == {
        "taskcraft.agent.pin": 1,
        "taskcraft.tool.run": 3,
        "taskcraft.model.complete": 1,
        "taskcraft.notify.gate": 1,
    }


async def test_live_jira_and_slack_post_once_when_the_first_answer_is_lost(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With credentials: Jira's API, Slack's chat.postMessage; a retried send finds its post."""
    issues = json.loads(
        (PROJECT_ROOT / "examples/incident_report/sample_data/tickets.json").read_text()
    )["issues"]
    with fake_services.running_fake_services() as services:
        services.jira_issues = issues  # the fake ignores the JQL: all 39 come back
        # Slack stores the message, then the answer is lost (a crash right after the send).
        services.fail_next("slack.post", 500, apply=True)
        env = {
            "JIRA_BASE_URL": services.base_url,
            "JIRA_BEARER_TOKEN": fake_services.JIRA_BEARER,
            "SLACK_BOT_TOKEN": fake_services.SLACK_TOKEN,
            "SLACK_CHANNEL": fake_services.SLACK_CHANNEL,
            "SLACK_API_URL": services.url("/slack/api"),
        }
        async with report_worker(harness, monkeypatch, env):
            handle = await harness.start(INCIDENT_REPORT, "Weekly incident report", inputs=WEEK)
            await harness.wait_for(handle, waiting_at("g1"))
            waiting_report = await report_of(handle)
            await decide(handle, kind="approve", approver="alice")
            result = await handle.result()
            report = await report_of(handle)
    assert result.status is TaskStatus.COMPLETED
    assert waiting_report.sources == {"tickets": "jira", "logs": "sample"}
    assert "• *39* incidents opened" in waiting_report.draft
    assert services.jira_bodies[0]["jql"] == (
        'project = INC AND created >= "2026-11-16" AND created < "2026-11-23" ORDER BY created ASC'
    )
    assert [m["text"] for m in services.slack_messages] == [waiting_report.draft]
    assert (services.requests["slack.post"], services.requests["slack.history"]) == (1, 2)
    assert report.sent is not None
    assert report.sent.already_sent is True
    assert (report.sent.sink, report.sent.channel) == ("chat", "C0123TEST")
    assert not (harness.settings.data_dir / "outbox" / "slack.jsonl").exists()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"JIRA_BASE_URL": "https://jira.example.com"}, "set JIRA_EMAIL and JIRA_API_TOKEN"),
        (
            {"JIRA_BASE_URL": "https://jira.example.com", "JIRA_EMAIL": "ops@example.com"},
            "JIRA_API_TOKEN is not set",
        ),
        ({"SLACK_BOT_TOKEN": "xoxb-1-2"}, "SLACK_CHANNEL is not set"),
    ],
)
async def test_a_configuration_problem_fails_the_task_before_any_ticket_is_queried(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    async with report_worker(harness, monkeypatch, env):
        handle = await harness.start(INCIDENT_REPORT, "Weekly incident report", inputs=WEEK)
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        state = await harness.state(handle)
    assert state.status is TaskStatus.FAILED
    assert state.error is not None
    assert state.error.startswith("agent 'incident-report' cannot start on this worker: ")
    assert named in state.error
    assert state.steps == []
    assert await activity_counts(handle) == {"taskcraft.agent.pin": 1}


@pytest.mark.parametrize(
    ("inputs", "error"),
    [
        ({"week": "2026-W54"}, "input week: '2026-W54' is not a week of that year"),
        ({"week": "last week"}, "input week: 'last week' is not an ISO week; write it like"),
        ({"project": "INC OR 1=1"}, "input project='INC OR 1=1' is not a Jira project key"),
    ],
)
async def test_bad_inputs_fail_before_anything_runs(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, inputs: dict[str, str], error: str
) -> None:
    async with report_worker(harness, monkeypatch):
        handle = await harness.start(INCIDENT_REPORT, "Weekly incident report", inputs=inputs)
        state: TaskState = await harness.wait_for(handle, lambda s: s.status.is_terminal)
    assert state.status is TaskStatus.FAILED
    assert state.error is not None
    assert state.error.startswith(error)
    assert await activity_counts(handle) == {}
