"""The error tree in ``taskcraft/errors.py``'s docstring is the code's, and complete.

Every exception a user can meet is a ``TaskcraftError`` defined in ``taskcraft.errors``
(so the CLI's one ``except TaskcraftError`` turns it into one line); any other exception
class in the runtime is a module's private control flow, named in ``PRIVATE`` below.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import taskcraft.errors as errors
from taskcraft.errors import TaskcraftError

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ["taskcraft", "workflows", "activities", "infra", "taskcraft_client", "cli", "inbox"]
# Exceptions that never leave their module: each is caught there and turned into a
# TaskcraftError, an ApplicationError, a denial or a page.
PRIVATE = {
    "taskcraft/toml_files.py": {"TomlProblems"},
    "taskcraft/policy/sql.py": {"SqlSyntaxError"},
    "taskcraft/policy/shell_model.py": {"ShellSyntaxError"},
    "taskcraft/arguments.py": {"ArgumentError"},
    "activities/tools/http.py": {"HttpServerError"},
    "activities/mcp/connections.py": {"_SessionExpired"},
    "inbox/auth.py": {"LoginRequired", "PageError"},
}
_TREE_LINE = re.compile(r"^(?P<indent>[ │]*)(?:[├└]── )?(?P<name>[A-Z]\w+)\s{2,}\S")


def documented_tree() -> dict[str, str | None]:
    """``{class: parent}`` as the docstring draws it."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = _TREE_LINE.match(line.removeprefix("    "))
        if not match:
            continue
        depth = len(match["indent"]) // 4 + (1 if "──" in line else 0)
        stack = [(d, n) for d, n in stack if d < depth]
        parents[match["name"]] = stack[-1][1] if stack else None
        stack.append((depth, match["name"]))
    return parents


def defined_tree() -> dict[str, str | None]:
    classes = {
        name: cls
        for name, cls in vars(errors).items()
        if inspect.isclass(cls) and issubclass(cls, TaskcraftError)
    }
    return {
        name: None
        if cls is TaskcraftError
        else next(base.__name__ for base in cls.__bases__ if issubclass(base, TaskcraftError))
        for name, cls in classes.items()
    }


def test_the_docstring_draws_every_error_with_its_real_parent() -> None:
    assert documented_tree() == defined_tree()


def exception_classes(path: Path) -> set[str]:
    """Classes in a file whose bases look like exceptions (``...Error``, ``Exception``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ClassDef):
            bases = {ast.unparse(base).split(".")[-1] for base in node.bases}
            if any(b.endswith(("Error", "Exception", "Problems")) for b in bases):
                found.add(node.name)
    return found


def test_runtime_defines_user_facing_errors_only_in_taskcraft_errors() -> None:
    strays = {}
    for package in RUNTIME:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = str(path.relative_to(ROOT))
            if relative == "taskcraft/errors.py":
                continue
            extra = exception_classes(path) - PRIVATE.get(relative, set())
            if extra:
                strays[relative] = sorted(extra)
    assert strays == {}


def test_the_private_list_is_not_stale() -> None:
    for relative, names in PRIVATE.items():
        assert exception_classes(ROOT / relative) >= names, relative


def test_errors_tool_authors_raise_are_taskcraft_errors_and_exported_where_tools_live() -> None:
    import taskcraft.tools

    assert taskcraft.tools.ToolError is errors.ToolError
    assert taskcraft.tools.NotDelivered is errors.NotDelivered
    assert issubclass(errors.NotDelivered, TaskcraftError)
    assert issubclass(errors.BlobMissingError, LookupError)
