"""Every package lists its public names in ``__all__``, and each of them imports."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = [
    "taskcraft",
    "taskcraft.policy",
    "workflows",
    "activities.models",
    "activities.tools",
    "activities.mcp",
    "workflows.task",
    "taskcraft_client",
    "infra",
    "cli",
]


@pytest.mark.parametrize("package", PACKAGES)
def test_package_declares_and_exports_its_public_names(package: str) -> None:
    module = importlib.import_module(package)
    names = getattr(module, "__all__", None)
    assert names, f"{package}.__init__ has no __all__"
    assert len(names) == len(set(names)), f"{package}.__all__ repeats a name"
    for name in names:
        assert getattr(module, name, None) is not None, f"{package}.{name} does not import"


def test_activities_package_imports_nothing() -> None:
    """Its modules are imported one by one; the package itself must stay free to import."""
    import types

    module = importlib.import_module("activities")
    defined = {
        name: value
        for name, value in vars(module).items()
        if not name.startswith("__") and not isinstance(value, types.ModuleType)
    }
    assert defined == {}  # submodules imported elsewhere appear as attributes; nothing else


def test_neutral_core_imports_only_stdlib_and_pydantic() -> None:
    """taskcraft/ is imported by workflow code: it must not pull in I/O libraries."""
    import ast
    import sys
    from pathlib import Path

    root = Path(importlib.import_module("taskcraft").__file__ or "").parent
    allowed = set(sys.stdlib_module_names) | {
        "pydantic",
        "pydantic_core",
        "taskcraft",
        "typing_extensions",
    }
    offenders = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        # Imports only type checkers see (``if TYPE_CHECKING:``) never run.
        typing_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If)
            and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                offenders += [
                    f"{path.name}: {n}" for n in names if n and n.split(".")[0] not in allowed
                ]
    assert offenders == []
