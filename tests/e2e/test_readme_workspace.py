"""The README's first example, exactly as written: the workspace agent on the shipped workspace.

The worker runs without TASKCRAFT_WORKSPACE, so it uses ``sample_data/workspace``; the
task only reads it, and the test checks that the shipped folder is left as it was.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.e2e.conftest import PROJECT_ROOT, Processes

SHIPPED = PROJECT_ROOT / "sample_data" / "workspace"
SHIPPED_FILES = ("meeting-notes-2026-11-30.md", "oncall-rota.csv", "runbook-payments-api.md")
README_EXAMPLE = 'taskcraft start workspace-analyst --goal "Summarise the workspace" --wait'


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


def test_the_readme_example_summarises_the_shipped_workspace(processes: Processes) -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"^{re.escape(README_EXAMPLE)}( |$)", readme, re.M), "README changed"
    before = _snapshot(SHIPPED)
    assert set(SHIPPED_FILES) <= set(before)

    del processes.env["TASKCRAFT_WORKSPACE"]  # the default, as a user has it
    processes.start_worker()
    result = processes.cli(*shlex.split(README_EXAMPLE)[1:])

    assert result.returncode == 0, result.stderr
    assert re.search(r"^Task workspace-analyst-\w+ COMPLETED after \d+ steps$", result.stdout, re.M)
    for name in SHIPPED_FILES:  # read and named (a local extra file sorting first would hide one)
        assert re.search(rf"^- {re.escape(name)}: \d+ lines, \d+ words; ", result.stdout, re.M), (
            result.stdout
        )
    assert f'"workspace": "{SHIPPED}"' in processes.worker_log()
    assert _snapshot(SHIPPED) == before
