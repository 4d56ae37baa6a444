"""Workflow modules stay deterministic: no clocks, randomness, environment, network or files.

A static check over every module in ``workflows/``: it fails on a forbidden import or
call anywhere except inside ``with workflow.unsafe.imports_passed_through():``. It also
checks the check itself against snippets that must be caught.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "workflows"

FORBIDDEN_MODULES = {
    "random",
    "secrets",
    "time",
    "uuid",
    "os",
    "httpx",
    "requests",
    "urllib.request",
    "socket",
    "subprocess",
    "threading",
    "asyncio.subprocess",
    "pathlib",
    "shutil",
    "io",
    "sqlite3",
    "activities",
}
FORBIDDEN_CALLS = {
    "datetime.now",
    "datetime.utcnow",
    "datetime.today",
    "date.today",
    "time.time",
    "time.monotonic",
    "time.sleep",
    "time.perf_counter",
    "uuid.uuid4",
    "uuid.uuid1",
    "random.random",
    "random.randint",
    "random.choice",
    "os.environ.get",
    "os.getenv",
    "open",
    "asyncio.sleep",
    "Path.read_text",
    "Path.write_text",
    "Path.open",
}
FORBIDDEN_ATTRIBUTES = {"os.environ"}


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _is_passthrough(node: ast.With) -> bool:
    return any(
        isinstance(item.context_expr, ast.Call)
        and _dotted(item.context_expr.func) == "workflow.unsafe.imports_passed_through"
        for item in node.items
    )


def violations(source: str, name: str = "<module>") -> list[str]:
    found: list[str] = []

    def visit(node: ast.AST, passthrough: bool) -> None:
        if isinstance(node, ast.With) and _is_passthrough(node):
            passthrough = True
        if not passthrough and isinstance(node, ast.Import | ast.ImportFrom):
            modules = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            for module in modules:
                if any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN_MODULES):
                    found.append(f"{name}:{node.lineno}: imports {module}")
        if isinstance(node, ast.Call):
            called = _dotted(node.func)
            if called in FORBIDDEN_CALLS:
                found.append(f"{name}:{node.lineno}: calls {called}()")
        if isinstance(node, ast.Attribute) and _dotted(node) in FORBIDDEN_ATTRIBUTES:
            found.append(f"{name}:{node.lineno}: reads {_dotted(node)}")
        for child in ast.iter_child_nodes(node):
            visit(child, passthrough)

    visit(ast.parse(source), False)
    return found


@pytest.mark.parametrize(
    "path", sorted(WORKFLOWS_DIR.rglob("*.py")), ids=lambda p: str(p.relative_to(WORKFLOWS_DIR))
)
def test_workflow_module_is_deterministic(path: Path) -> None:
    assert violations(path.read_text(), path.name) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "import random",
        "from datetime import datetime\nx = datetime.now()",
        "import time\ntime.time()",
        "import uuid\nuuid.uuid4()",
        "import os\nos.environ['X']",
        "import httpx",
        "open('f').read()",
        "from activities.conversations import ConversationStore",
        "import asyncio\nasync def f():\n    await asyncio.sleep(1)",
    ],
)
def test_guard_catches_nondeterminism(snippet: str) -> None:
    assert violations(snippet) != []


def test_guard_allows_passthrough_imports() -> None:
    source = "from temporalio import workflow\nwith workflow.unsafe.imports_passed_through():\n    import httpx\n"
    assert violations(source) == []
