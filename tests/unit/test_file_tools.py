"""The file tools: what they return, and that no path leads out of the workspace."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import activities.tools
from activities.tools import ToolRegistry, builtin_tools
from activities.tools.builtin import BUILTIN_TOOL_NAMES
from activities.tools.files import (
    FileContent,
    FileListing,
    WriteResult,
    list_files_tool,
    read_file_tool,
    write_file_tool,
)
from taskcraft.tools import Tool, ToolContext, ToolError


@pytest.fixture
async def context(tmp_path: Path) -> AsyncIterator[ToolContext]:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    async with httpx.AsyncClient(trust_env=False) as http:
        yield ToolContext(
            task_id="task-1",
            step=1,
            call_id="call-1",
            idempotency_key="task-1/1/call-1",
            workspace=workspace,
            http=http,
            data_dir=tmp_path / "data",
        )


async def invoke(tool: Tool[Any], context: ToolContext, **arguments: Any) -> str:
    return await tool.invoke(arguments, context)


async def test_list_files_returns_sorted_entries_with_type_and_size(context: ToolContext) -> None:
    """Entries come back sorted by path, typed file/dir, with sizes; subdirectories unopened."""
    (context.workspace / "b.txt").write_text("12345")
    (context.workspace / "a_dir").mkdir()
    (context.workspace / "a_dir" / "inner.txt").write_text("x")
    listing = FileListing.model_validate_json(await invoke(list_files_tool(), context))
    assert [(e.path, e.type, e.size) for e in listing.entries] == [
        ("a_dir", "dir", 0),
        ("b.txt", "file", 5),
    ]
    assert listing.truncated is False


async def test_list_files_recursive_with_pattern_and_limit(context: ToolContext) -> None:
    """A recursive glob finds nested matches; max_entries cuts the list and says so."""
    for name in ("one.py", "two.txt", "pkg/three.py", "pkg/deep/four.py"):
        path = context.workspace / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("pass")
    tool = list_files_tool()
    found = FileListing.model_validate_json(
        await invoke(tool, context, pattern="*.py", recursive=True)
    )
    assert [e.path for e in found.entries] == ["one.py", "pkg/deep/four.py", "pkg/three.py"]
    cut = FileListing.model_validate_json(
        await invoke(tool, context, pattern="*.py", recursive=True, max_entries=2)
    )
    assert [e.path for e in cut.entries] == ["one.py", "pkg/deep/four.py"]
    assert cut.truncated is True


async def test_list_files_hides_symlinks_that_point_outside(
    context: ToolContext, tmp_path: Path
) -> None:
    """A link planted in the workspace does not reveal what lies outside it."""
    (tmp_path / "secret.txt").write_text("secret")
    (context.workspace / "leak").symlink_to(tmp_path / "secret.txt")
    (context.workspace / "ok.txt").write_text("fine")
    listing = FileListing.model_validate_json(await invoke(list_files_tool(), context))
    assert [e.path for e in listing.entries] == ["ok.txt"]


async def test_read_file_pages_with_offset_and_reports_truncation(context: ToolContext) -> None:
    """max_bytes and offset page through a file; truncated says whether more follows."""
    (context.workspace / "notes.txt").write_text("abcdefghij")
    tool = read_file_tool()
    first = FileContent.model_validate_json(
        await invoke(tool, context, path="notes.txt", max_bytes=4)
    )
    assert (first.text, first.size, first.bytes_read, first.truncated) == ("abcd", 10, 4, True)
    rest = FileContent.model_validate_json(
        await invoke(tool, context, path="notes.txt", offset=4, max_bytes=100)
    )
    assert (rest.text, rest.truncated) == ("efghij", False)


async def test_read_file_replaces_invalid_utf8(context: ToolContext) -> None:
    """Binary content does not fail the call; undecodable bytes become U+FFFD."""
    (context.workspace / "blob.bin").write_bytes(b"ok\xff\xfe")
    content = FileContent.model_validate_json(
        await invoke(read_file_tool(), context, path="blob.bin")
    )
    assert content.text == "ok\ufffd\ufffd"


async def test_read_file_refuses_directories_and_missing_files(context: ToolContext) -> None:
    """Both are the model's mistake, so both are ToolErrors with a message that says what."""
    (context.workspace / "docs").mkdir()
    with pytest.raises(ToolError, match="is a directory; use list_files"):
        await invoke(read_file_tool(), context, path="docs")
    with pytest.raises(ToolError, match="No such file"):
        await invoke(read_file_tool(), context, path="absent.txt")


ESCAPES = [
    ("../x", "outside the workspace"),
    ("a/../../x", "outside the workspace"),
    ("/etc/passwd", "is absolute"),
    ("~", "home directory"),
    ("~/x", "home directory"),
    ("~root/.bashrc", "home directory"),
    ("x\x00y", "NUL byte"),
]


@pytest.mark.parametrize(("path", "refusal"), ESCAPES)
@pytest.mark.parametrize("tool_name", ["list_files", "read_file", "write_file"])
async def test_paths_outside_the_workspace_are_refused(
    context: ToolContext, tool_name: str, path: str, refusal: str
) -> None:
    """Traversal, absolute paths, home directories and NUL bytes never reach the disk."""
    (context.workspace / "~").mkdir()  # refused even where such a name would resolve inside
    tool = {t.name: t for t in builtin_tools()}[tool_name]
    arguments: dict[str, Any] = {"path": path}
    if tool_name == "write_file":
        arguments["content"] = "pwned"
    with pytest.raises(ToolError, match=refusal):
        await tool.invoke(arguments, context)
    assert not (context.workspace.parent / "x").exists()


@pytest.mark.parametrize("tool_name", ["list_files", "read_file", "write_file"])
async def test_symlinks_leading_outside_are_refused(
    context: ToolContext, tmp_path: Path, tool_name: str
) -> None:
    """A symlink inside the workspace that points outside is followed, then refused."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (context.workspace / "link").symlink_to(outside)
    tool = {t.name: t for t in builtin_tools()}[tool_name]
    path = "link" if tool_name == "list_files" else "link/secret.txt"
    arguments: dict[str, Any] = {"path": path, "content": "pwned"}
    if tool_name != "write_file":
        del arguments["content"]
    with pytest.raises(ToolError, match="outside the workspace"):
        await tool.invoke(arguments, context)
    assert (outside / "secret.txt").read_text() == "secret"


async def test_symlink_loops_are_refused(context: ToolContext) -> None:
    """A link cycle is reported to the model instead of crashing the activity."""
    (context.workspace / "a").symlink_to(context.workspace / "b")
    (context.workspace / "b").symlink_to(context.workspace / "a")
    with pytest.raises(ToolError):
        await invoke(read_file_tool(), context, path="a")


async def test_write_file_creates_directories_and_is_idempotent(context: ToolContext) -> None:
    """Writing the same content twice leaves the same file, and no temp files behind."""
    tool = write_file_tool()
    for _ in range(2):
        result = WriteResult.model_validate_json(
            await invoke(tool, context, path="out/report.md", content="# Report\n")
        )
        assert (result.bytes_written, result.size) == (9, 9)
    assert (context.workspace / "out" / "report.md").read_text() == "# Report\n"
    assert os.listdir(context.workspace / "out") == ["report.md"]


async def test_write_file_keeps_the_mode_of_a_file_it_replaces(context: ToolContext) -> None:
    """An atomic replace must not silently make a script non-executable."""
    script = context.workspace / "run.sh"
    script.write_text("old")
    script.chmod(0o755)
    await invoke(write_file_tool(), context, path="run.sh", content="new")
    assert (script.read_text(), script.stat().st_mode & 0o777) == ("new", 0o755)


async def test_write_file_refuses_a_directory(context: ToolContext) -> None:
    (context.workspace / "docs").mkdir()
    with pytest.raises(ToolError, match="is a directory"):
        await invoke(write_file_tool(), context, path="docs", content="x")


async def test_retried_append_appends_once(context: ToolContext) -> None:
    """The same idempotency key twice (a Temporal retry) appends the content only once."""
    (context.workspace / "log.txt").write_text("start\n")
    tool = write_file_tool()
    first = WriteResult.model_validate_json(
        await invoke(tool, context, path="log.txt", content="line\n", append=True)
    )
    retry = WriteResult.model_validate_json(
        await invoke(tool, context, path="log.txt", content="line\n", append=True)
    )
    assert (first.already_applied, first.bytes_written) == (False, 5)
    assert (retry.already_applied, retry.bytes_written) == (True, 0)
    assert (context.workspace / "log.txt").read_text() == "start\nline\n"
    assert list((context.data_dir / "ledger").iterdir())


async def test_appends_with_different_keys_both_land(context: ToolContext) -> None:
    """A new call (new key) with the same text is a new append, not a duplicate."""
    tool = write_file_tool()
    await invoke(tool, context, path="log.txt", content="tick\n", append=True)
    context.idempotency_key = "task-1/2/call-1"
    await invoke(tool, context, path="log.txt", content="tick\n", append=True)
    assert (context.workspace / "log.txt").read_text() == "tick\ntick\n"


async def test_append_lost_after_the_ledger_entry_is_redone(context: ToolContext) -> None:
    """If the worker died after recording the append but before the bytes landed,
    the retry sees the content missing at the recorded offset and appends it."""
    log = context.workspace / "log.txt"
    log.write_text("start\n")
    tool = write_file_tool()
    await invoke(tool, context, path="log.txt", content="line\n", append=True)
    log.write_text("start\n")  # as if the append never reached the disk
    retry = WriteResult.model_validate_json(
        await invoke(tool, context, path="log.txt", content="line\n", append=True)
    )
    assert retry.already_applied is False
    assert log.read_text() == "start\nline\n"


def test_builtin_tools_match_their_published_names() -> None:
    """The names agents and histories refer to are exactly the tools built, and register."""
    tools = builtin_tools()
    assert tuple(tool.name for tool in tools) == BUILTIN_TOOL_NAMES
    assert ToolRegistry(tools).names() == sorted(BUILTIN_TOOL_NAMES)


def test_public_surface_of_the_tools_package() -> None:
    """Tools themselves are public in taskcraft.tools; this package holds the built-ins."""
    assert sorted(activities.tools.__all__) == ["ToolRegistry", "builtin_tools"]


def test_every_argument_is_described_for_the_model() -> None:
    """Field descriptions are the model's only documentation of the arguments."""
    for tool in builtin_tools():
        properties = tool.spec.parameters["properties"]
        assert properties, tool.name
        for name, schema in properties.items():
            assert schema.get("description"), f"{tool.name}.{name} has no description"


def test_approval_defaults() -> None:
    """No generic tool asks for approval on its own: the policy decides for them."""
    needs = {tool.name for tool in builtin_tools() if tool.requires_approval}
    assert needs == set()
