"""`taskcraft history` tells the whole story: every human action in place, with who and when."""

from __future__ import annotations

from datetime import UTC

from cli.render import render_history
from infra.catalog import catalog_for
from infra.settings import Settings
from taskcraft.approvals import Decision, DecisionKind
from taskcraft.controls import ControlAction, ControlRequest
from taskcraft.status import TaskStatus
from tests.workflows.conftest import Harness

ANALYST = catalog_for(Settings()).agents["workspace-analyst"]


async def test_notes_pauses_resumes_edits_and_rejections_appear_in_place(
    harness: Harness,
) -> None:
    (harness.workspace / "notes.md").write_text("# Notes\nShip on Friday.\n")
    goal = "Summarise the files and save the summary to a file."
    async with harness.worker([ANALYST]):
        handle = await harness.start(ANALYST, goal)
        await handle.execute_update("control", ControlRequest(action=ControlAction.PAUSE, by="ann"))
        await harness.wait_for(handle, lambda s: s.status is TaskStatus.PAUSED)
        note = ControlRequest(action=ControlAction.MESSAGE, by="ann", text="Mention Friday.")
        await handle.execute_update("control", note)
        await handle.execute_update("control", ControlRequest(action=ControlAction.RESUME, by="bo"))
        await harness.wait_for(handle, lambda s: s.pending is not None)
        edited = {"path": "summary.md", "content": "Ship on Friday."}
        await handle.execute_update(
            "decide_and_confirm",
            Decision(kind=DecisionKind.EDIT, approver="cy", arguments=edited, comment="shorter"),
        )
        await handle.result()
        runs = await harness.taskcraft().runs(handle.id)
    text = render_history(runs, tz=UTC)
    lines = text.splitlines()

    def at(fragment: str) -> int:
        [index] = [i for i, line in enumerate(lines) if fragment in line]
        return index

    paused = at("👤 ann paused the task at ")
    noted = at("👤 ann left a note at ")
    resumed = at("👤 bo resumed the task at ")
    edit = at("👤 cy edited and approved gate g1 at ")
    write = at("action:  write_file")
    assert paused < noted < resumed < at("Step 1 ·")
    assert "(read at step 1): Mention Friday." in lines[noted]
    assert resumed < edit < write
    assert lines[edit + 1].strip() == "comment: shorter"
    assert (
        lines[edit + 2].strip()
        == 'new arguments: {"content": "Ship on Friday.", "path": "summary.md"}'
    )
    assert "observe: [ok] (edited by cy)" in lines[write + 1]
    assert "UTC" in lines[paused]
