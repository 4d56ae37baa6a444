"""File tools confined to the task's workspace: list, read, write.

Every path goes through ``resolve_in_workspace``: the policy engine checks arguments
first, and this is the second wall, so a prompt-injected ``../`` or a symlink planted in
the workspace still cannot reach the worker's own files. Blocking file I/O runs in a
thread, because these are async activities and must not stall the event loop.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Literal, TypeVar

from pydantic import BaseModel, Field

from taskcraft.tools import SideEffects, Tool, ToolContext, ToolError

MAX_READ_BYTES = 1_000_000
MAX_WRITE_CHARS = 1_000_000  # payloads live in the event history; keep them small
MAX_LIST_ENTRIES = 2_000
MAX_SCANNED_ENTRIES = 50_000  # a listing never walks a whole disk
NEW_FILE_MODE = 0o644

ResultT = TypeVar("ResultT")


def resolve_in_workspace(workspace: Path, requested: str) -> Path:
    """The real path ``requested`` names inside ``workspace``, or ``ToolError`` if it escapes."""
    if "\x00" in requested:
        raise ToolError("The path contains a NUL byte; pass a plain relative path.")
    if requested.startswith("~"):
        raise ToolError(f"Path {requested!r} refers to a home directory; use a workspace path.")
    if PurePosixPath(requested).is_absolute():
        raise ToolError(f"Path {requested!r} is absolute; use a path relative to the workspace.")
    try:
        root = workspace.resolve(strict=False)
        resolved = (root / requested).resolve(strict=False)
    except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop on Python 3.11
        raise ToolError(f"Path {requested!r} cannot be resolved: {error}.") from error
    if not resolved.is_relative_to(root):
        raise ToolError(f"Path {requested!r} leads outside the workspace; access refused.")
    return resolved


async def _in_thread(action: str, function: Callable[[], ResultT]) -> ResultT:
    """Run blocking I/O (path resolution included) off the event loop.

    OS errors become messages for the model: a missing file is not worth a retry.
    """
    try:
        return await asyncio.to_thread(function)
    except OSError as error:  # missing file, permission denied, not a directory, ...
        raise ToolError(f"Cannot {action}: {error.strerror or error}.") from error


class ListFilesArgs(BaseModel):
    path: str = Field(default=".", description="Directory to list, relative to the workspace.")
    pattern: str = Field(
        default="*",
        description="Glob matched against each entry's name (or its path below `path` "
        "when the pattern contains '/'), e.g. '*.py'.",
    )
    recursive: bool = Field(default=False, description="Also list subdirectories' contents.")
    max_entries: int = Field(
        default=200, ge=1, le=MAX_LIST_ENTRIES, description="Most entries to return."
    )


class FileEntry(BaseModel):
    path: str = Field(description="Path relative to the workspace.")
    type: Literal["file", "dir"]
    size: int = Field(description="Size in bytes; 0 for directories.")


class FileListing(BaseModel):
    entries: list[FileEntry]
    truncated: bool = False


def _entry(root: Path, base: Path, path: Path, pattern: str) -> FileEntry | None:
    """The listing entry for ``path``; None if it does not match or points outside."""
    relative_to_base = path.relative_to(base).as_posix()
    if not fnmatchcase(relative_to_base if "/" in pattern else path.name, pattern):
        return None
    target = path.resolve(strict=False)  # a symlink is listed only if it stays inside
    if not target.is_relative_to(root) or not target.exists():
        return None
    kind: Literal["file", "dir"] = "dir" if target.is_dir() else "file"
    size = target.stat().st_size if kind == "file" else 0
    return FileEntry(path=path.relative_to(root).as_posix(), type=kind, size=size)


def _list(workspace: Path, args: ListFilesArgs) -> FileListing:
    root = workspace.resolve(strict=False)
    base = resolve_in_workspace(workspace, args.path)
    if not base.is_dir():
        raise ToolError(f"{args.path!r} is not a directory in the workspace.")
    entries: list[FileEntry] = []
    scanned = 0
    # os.walk does not follow directory symlinks, so a link cannot loop or lead outside.
    for directory, dirnames, filenames in os.walk(base):
        dirnames.sort()  # a capped walk should stop at the same place every time
        for name in dirnames + sorted(filenames):
            scanned += 1
            if scanned > MAX_SCANNED_ENTRIES:
                return FileListing(entries=sorted(entries, key=_by_path), truncated=True)
            entry = _entry(root, base, Path(directory) / name, args.pattern)
            if entry is not None:
                entries.append(entry)
        if not args.recursive:
            break
    entries.sort(key=_by_path)
    return FileListing(
        entries=entries[: args.max_entries], truncated=len(entries) > args.max_entries
    )


def _by_path(entry: FileEntry) -> str:
    return entry.path


def list_files_tool() -> Tool[ListFilesArgs]:
    async def run(args: ListFilesArgs, context: ToolContext) -> FileListing:
        return await _in_thread(f"list {args.path!r}", lambda: _list(context.workspace, args))

    return Tool(
        name="list_files",
        arg_kinds={"path": "workspace_path"},
        side_effects=SideEffects.NONE,
        description="List files and directories in the workspace, sorted by path.",
        args_model=ListFilesArgs,
        run=run,
    )


class ReadFileArgs(BaseModel):
    path: str = Field(description="File to read, relative to the workspace.")
    max_bytes: int = Field(
        default=65_536, ge=1, le=MAX_READ_BYTES, description="Most bytes to read."
    )
    offset: int = Field(default=0, ge=0, description="Byte offset to start reading at.")


class FileContent(BaseModel):
    path: str
    text: str = Field(description="The bytes read, decoded as UTF-8 (bad bytes replaced).")
    size: int = Field(description="Size of the whole file in bytes.")
    bytes_read: int
    truncated: bool = Field(description="True when the file continues past what was read.")


def _read(workspace: Path, args: ReadFileArgs) -> FileContent:
    path = resolve_in_workspace(workspace, args.path)
    if path.is_dir():
        raise ToolError(f"{args.path!r} is a directory; use list_files to see its contents.")
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        file.seek(args.offset)
        data = file.read(args.max_bytes)
    return FileContent(
        path=args.path,
        text=data.decode("utf-8", errors="replace"),
        size=size,
        bytes_read=len(data),
        truncated=args.offset + len(data) < size,
    )


def read_file_tool() -> Tool[ReadFileArgs]:
    async def run(args: ReadFileArgs, context: ToolContext) -> FileContent:
        return await _in_thread(f"read {args.path!r}", lambda: _read(context.workspace, args))

    return Tool(
        name="read_file",
        arg_kinds={"path": "workspace_path"},
        side_effects=SideEffects.NONE,
        description="Read a text file from the workspace; use offset to page through it.",
        args_model=ReadFileArgs,
        run=run,
    )


class WriteFileArgs(BaseModel):
    path: str = Field(description="File to write, relative to the workspace.")
    content: str = Field(max_length=MAX_WRITE_CHARS, description="Text to write (UTF-8).")
    append: bool = Field(default=False, description="Append instead of replacing the file.")


class WriteResult(BaseModel):
    path: str
    bytes_written: int
    size: int = Field(description="Size of the file after the write.")
    already_applied: bool = Field(
        default=False, description="A retried append found its content already written."
    )


def _replace(path: Path, data: bytes) -> None:
    """Write via a temp file and ``os.replace``: readers never see half a file."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else NEW_FILE_MODE
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _append_once(path: Path, data: bytes, ledger: Path) -> bool:
    """Append unless the ledger shows this call already did; True if it had.

    The ledger records the offset before appending, so a retry after a crash at any
    point can check whether the bytes at that offset are already this call's content.
    """
    digest = hashlib.sha256(data).hexdigest()
    with path.open("ab") as file:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX)  # offset and append as one step
        if ledger.exists():
            record = json.loads(ledger.read_text())
            if record.get("path") == str(path) and record.get("sha256") == digest:
                with path.open("rb") as reader:
                    reader.seek(int(record["offset"]))
                    if reader.read(len(data)) == data:
                        return True
        offset = file.seek(0, os.SEEK_END)
        ledger.parent.mkdir(parents=True, exist_ok=True)
        _replace(
            ledger, json.dumps({"path": str(path), "offset": offset, "sha256": digest}).encode()
        )
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    return False


def _write(workspace: Path, args: WriteFileArgs, ledger: Path) -> WriteResult:
    path = resolve_in_workspace(workspace, args.path)
    if path.is_dir():
        raise ToolError(f"{args.path!r} is a directory; choose a file path.")
    path.parent.mkdir(parents=True, exist_ok=True)
    data = args.content.encode("utf-8")
    applied = False
    if args.append:
        applied = _append_once(path, data, ledger)
    else:
        _replace(path, data)
    return WriteResult(
        path=args.path,
        bytes_written=0 if applied else len(data),
        size=path.stat().st_size,
        already_applied=applied,
    )


def write_file_tool() -> Tool[WriteFileArgs]:
    async def run(args: WriteFileArgs, context: ToolContext) -> WriteResult:
        key = hashlib.sha256(context.idempotency_key.encode()).hexdigest()
        ledger = context.data_dir / "ledger" / f"write_file-{key}.json"
        return await _in_thread(
            f"write {args.path!r}", lambda: _write(context.workspace, args, ledger)
        )

    return Tool(
        name="write_file",
        arg_kinds={"path": "workspace_path"},
        writes=True,
        description="Write or append text to a file in the workspace, creating directories.",
        args_model=WriteFileArgs,
        run=run,
        requires_approval=False,  # the policy decides which writes need a person
    )
