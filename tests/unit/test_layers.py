"""The layers of docs/architecture.md, enforced: a forbidden import fails here, by name.

Each package may import the packages the table allows (and the standard library and
third-party libraries); the runtime never imports the examples; and outside the running
task's own package nothing writes a task's state.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {
    "taskcraft",
    "workflows",
    "activities",
    "infra",
    "taskcraft_client",
    "cli",
    "inbox",
    "examples",
    "worker",
    "starter",
}
# package → the first-party packages it must never import.
FORBIDDEN = {
    "taskcraft": FIRST_PARTY - {"taskcraft"},
    "workflows": {"activities", "infra", "taskcraft_client", "cli", "inbox", "examples", "worker"},
    "activities": {"workflows", "infra", "taskcraft_client", "cli", "inbox", "examples", "worker"},
    "infra": {"taskcraft_client", "cli", "inbox", "examples", "worker", "starter"},
    "taskcraft_client": {"cli", "inbox", "examples", "worker", "starter"},
    "inbox": {"cli", "examples", "worker", "starter"},
    "cli": {"examples", "worker"},
}
# Example code (not its tests) stands on the public surface only.
EXAMPLE_FORBIDDEN = {"activities", "infra", "taskcraft_client", "cli", "inbox", "worker"}


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def violations(source: str, name: str, forbidden: set[str]) -> list[str]:
    return [
        f"{name}:{line}: imports {module}"
        for line, module in imported_modules(ast.parse(source))
        if module.split(".")[0] in forbidden
    ]


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_its_layer_allows(package: str) -> None:
    found = []
    for path in python_files(ROOT / package):
        found += violations(path.read_text(), str(path.relative_to(ROOT)), FORBIDDEN[package])
    assert found == []


def example_code() -> list[Path]:
    return [
        path
        for path in python_files(ROOT / "examples")
        if "tests" not in path.relative_to(ROOT / "examples").parts
    ]


def test_examples_use_only_the_public_surface() -> None:
    found = []
    for path in example_code():
        found += violations(path.read_text(), str(path.relative_to(ROOT)), EXAMPLE_FORBIDDEN)
    assert example_code()
    assert found == []


def test_the_top_level_scripts_keep_to_their_entry_points() -> None:
    """worker.py runs the worker; starter.py the CLI; neither imports the other."""
    worker = (ROOT / "worker.py").read_text()
    starter = (ROOT / "starter.py").read_text()
    assert violations(worker, "worker.py", {"cli", "inbox", "starter"}) == []
    assert violations(starter, "starter.py", {"worker", "infra", "activities"}) == []


_MUTATORS = {"append", "extend", "insert", "update", "pop", "clear", "remove", "setdefault"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Subscript):
        return _dotted(node.value) + "[]"
    return ""


def state_writes(source: str, name: str) -> list[str]:
    """Assignments to, and mutating calls on, anything reached through ``.state``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _MUTATORS
        ):
            targets = [node.func.value]
        for target in targets:
            dotted = _dotted(target)
            if ".state." in f".{dotted}." and not dotted.endswith(".state"):
                found.append(f"{name}:{node.lineno}: writes {dotted}")
    return found


def test_only_the_running_tasks_own_package_writes_its_state() -> None:
    outside = [
        p for p in python_files(ROOT / "workflows") if "task" not in p.relative_to(ROOT).parts[1:2]
    ]
    found = []
    for path in [*outside, *example_code()]:
        found += state_writes(path.read_text(), str(path.relative_to(ROOT)))
    assert outside
    assert found == []


@pytest.mark.parametrize(
    ("snippet", "forbidden"),
    [
        ("from activities.conversations import ConversationStore", {"activities"}),
        ("import infra.settings", {"infra"}),
        ("from cli import tasks", {"cli"}),
    ],
)
def test_the_import_check_catches_what_it_must(snippet: str, forbidden: set[str]) -> None:
    assert violations(snippet, "x.py", forbidden) != []


@pytest.mark.parametrize(
    "snippet",
    [
        "task.state.step = 3",
        "self.task.state.notes.append(note)",
        "run.state.usage.tool_calls += 1",
        "task.state.extra['x'] = 1",
    ],
)
def test_the_state_check_catches_writes(snippet: str) -> None:
    assert state_writes(snippet, "x.py") != []


def test_the_state_check_allows_reads() -> None:
    assert state_writes("x = task.state.step\nprint(task.state.notes[0])", "x.py") == []


def test_the_cli_loads_no_activity_code() -> None:
    """`taskcraft status` must not pay for the MCP SDK and every tool's dependencies."""
    probe = (
        "import sys, cli.app, inbox.app, taskcraft_client\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('activities', 'worker', 'examples', 'mcp')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
