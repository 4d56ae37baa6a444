"""Who may decide a gate, and when: ``refusal_reason`` as a table, plus what the UI shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from taskcraft.approvals import (
    ApprovalRequest,
    ApprovalSettings,
    Decision,
    GateKind,
    TimeoutOutcome,
    refusal_reason,
)
from taskcraft.details import DRAFT_SHOWN_CHARS, clip, render_details
from taskcraft.status import TaskStatus
from taskcraft.task import TaskState

ASKED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def gate(
    gate_id: str = "g2", kind: GateKind = GateKind.TOOL_CALL, **fields: Any
) -> ApprovalRequest:
    values: dict[str, Any] = {
        "gate_id": gate_id,
        "kind": kind,
        "title": "run write_file",
        "reason": "writes need a person",
        "step": 3,
        "asked_at": ASKED,
        "timeout_at": ASKED + timedelta(hours=24),
        "tool": "write_file" if kind is GateKind.TOOL_CALL else None,
        "arguments": {"path": "a.txt", "content": "x"} if kind is GateKind.TOOL_CALL else None,
        "draft": "a draft" if kind is GateKind.CHECKPOINT else None,
        **fields,
    }
    return ApprovalRequest(**values)


def reason_for(
    decision: dict[str, Any],
    *,
    status: TaskStatus = TaskStatus.AWAITING_APPROVAL,
    pending: ApprovalRequest | None = None,
    decided: frozenset[str] = frozenset({"g1"}),
) -> str | None:
    return refusal_reason(
        status=status,
        pending=pending,
        decided_gate_ids=set(decided),
        decision=Decision.model_validate(decision),
    )


ALICE_ONLY = gate(approvers=["alice"], escalate_to=["boss"])
ESCALATED = gate(approvers=["alice"], escalate_to=["boss"], escalated=True)


@pytest.mark.parametrize(
    ("decision", "context", "expected"),
    [
        # Allowed.
        ({"kind": "approve"}, {"pending": gate()}, None),
        ({"kind": "approve", "gate_id": "g2", "approver": "anyone"}, {"pending": gate()}, None),
        ({"kind": "reject", "reason": "too broad"}, {"pending": gate()}, None),
        ({"kind": "edit", "arguments": {"path": "b.txt"}}, {"pending": gate()}, None),
        ({"kind": "edit", "draft": "better"}, {"pending": gate(kind=GateKind.CHECKPOINT)}, None),
        ({"kind": "approve", "approver": "alice"}, {"pending": ALICE_ONLY}, None),
        ({"kind": "approve", "approver": "boss"}, {"pending": ESCALATED}, None),
        ({"kind": "approve", "approver": "alice"}, {"pending": ESCALATED}, None),
        # The task is finished.
        *[
            (
                {"kind": "approve"},
                {"status": status, "pending": None},
                f"task is already {status.value}; there is nothing to decide",
            )
            for status in (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)
        ],
        # The gate was already decided: named, or implied while it is still pending.
        ({"kind": "approve", "gate_id": "g1"}, {"pending": gate()}, "gate g1 was already decided"),
        ({"kind": "approve", "gate_id": "g1"}, {"pending": None}, "gate g1 was already decided"),
        (
            {"kind": "reject", "reason": "no"},
            {"pending": gate("g1")},
            "gate g1 was already decided",
        ),
        # Nothing, or something else, is pending.
        ({"kind": "approve"}, {"pending": None}, "task is not waiting for a decision"),
        (
            {"kind": "approve"},
            {"status": TaskStatus.RUNNING, "pending": None},
            "task is not waiting for a decision",
        ),
        (
            {"kind": "approve", "gate_id": "g9"},
            {"pending": gate()},
            "gate g9 is not pending (the pending gate is g2)",
        ),
        # Not this approver.
        (
            {"kind": "approve", "approver": "mallory"},
            {"pending": ALICE_ONLY},
            "'mallory' may not decide gate g2 (allowed: alice)",
        ),
        (
            {"kind": "approve", "approver": "boss"},
            {"pending": ALICE_ONLY},
            "'boss' may not decide gate g2 (allowed: alice)",
        ),
        (
            {"kind": "approve", "approver": "mallory"},
            {"pending": ESCALATED},
            "'mallory' may not decide gate g2 (allowed: alice, boss)",
        ),
        # Incomplete decisions.
        (
            {"kind": "reject", "reason": " \n"},
            {"pending": gate()},
            "a rejection needs a reason (it is passed back to the agent)",
        ),
        (
            {"kind": "edit"},
            {"pending": gate()},
            "an edit of a tool call needs the replacement arguments",
        ),
        (
            {"kind": "edit", "arguments": {"x": 1}},
            {"pending": gate(kind=GateKind.CHECKPOINT)},
            "an edit of a draft needs the replacement draft",
        ),
        (
            {"kind": "edit", "draft": "more"},
            {"pending": gate(kind=GateKind.BUDGET)},
            "a budget gate can only be approved or rejected",
        ),
    ],
)
def test_refusal_reason(
    decision: dict[str, Any], context: dict[str, Any], expected: str | None
) -> None:
    assert reason_for(decision, **context) == expected


def test_allowed_approvers_widen_only_after_escalation() -> None:
    """Before escalation the second audience may not decide; afterwards both may."""
    assert gate().allowed_approvers() == []  # empty: any operator
    assert ALICE_ONLY.allowed_approvers() == ["alice"]
    assert ESCALATED.allowed_approvers() == ["alice", "boss"]


def test_escalation_without_an_audience_is_refused_at_definition() -> None:
    """``on_timeout = escalate`` with nobody to escalate to is a configuration error."""
    with pytest.raises(ValidationError, match="escalate_to"):
        ApprovalSettings(on_timeout=TimeoutOutcome.ESCALATE)
    settings = ApprovalSettings(on_timeout=TimeoutOutcome.ESCALATE, escalate_to=["boss"])
    assert settings.escalate_to == ["boss"]


def test_current_details_at_a_gate_say_what_waits_and_how_to_answer() -> None:
    """The Temporal UI's current details: proposal, reason, who, deadline, CLI and signal."""
    state = TaskState(
        task_id="task-1",
        agent="writer",
        goal="save it",
        status=TaskStatus.AWAITING_APPROVAL,
        step=3,
        pending=gate(approvers=["alice"]),
    )
    lines = render_details(state).split("\n\n")
    assert lines == [
        "**AWAITING_APPROVAL** · agent `writer` · step 3",
        'Proposed: `write_file` with `{"content": "x", "path": "a.txt"}`',
        "Why: writes need a person",
        "Who may decide: alice · times out 2026-11-25T09:00:00+00:00 (then: reject)",
        "Approve: `taskcraft approve task-1 --gate g2 --as NAME`",
        'Reject: `taskcraft reject task-1 --gate g2 --reason "..."`',
        'Or send signal `decide` with `{"kind": "approve", "approver": "NAME", "gate_id": "g2"}`',
    ]


def test_current_details_of_an_escalated_gate_name_both_audiences() -> None:
    state = TaskState(
        task_id="task-1",
        agent="writer",
        goal="g",
        status=TaskStatus.AWAITING_APPROVAL,
        pending=ESCALATED.model_copy(update={"on_timeout": TimeoutOutcome.ESCALATE}),
    )
    assert (
        "Who may decide: alice, boss · times out 2026-11-25T09:00:00+00:00 "
        "(then: reject, already escalated)"
    ) in render_details(state).split("\n\n")


def test_current_details_when_paused_say_how_to_resume() -> None:
    state = TaskState(
        task_id="task-1",
        agent="writer",
        goal="g",
        status=TaskStatus.PAUSED,
        status_detail="paused by alice",
        step=2,
    )
    assert render_details(state).split("\n\n") == [
        "**PAUSED** · agent `writer` · step 2",
        "paused by alice",
        "Resume: `taskcraft resume task-1` or send signal `resume` with `{}`",
    ]


def test_current_details_show_a_long_draft_cut_with_where_the_rest_is() -> None:
    draft = "x" * (DRAFT_SHOWN_CHARS + 250)
    state = TaskState(
        task_id="task-1",
        agent="reporter",
        goal="g",
        status=TaskStatus.AWAITING_APPROVAL,
        pending=gate(approvers=["alice"]).model_copy(update={"tool": None, "draft": draft}),
    )
    shown = next(part for part in render_details(state).split("\n\n") if part.startswith("x"))
    assert shown == "x" * DRAFT_SHOWN_CHARS + "\n… (250 more characters: `taskcraft status task-1`)"


def test_a_short_draft_is_shown_whole() -> None:
    assert clip("short", 10, "elsewhere") == "short"
