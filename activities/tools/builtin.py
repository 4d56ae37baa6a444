"""The generic tools every worker offers; agents pick among them by name."""

from __future__ import annotations

from typing import Any

from activities.tools.files import list_files_tool, read_file_tool, write_file_tool
from activities.tools.http import http_get_tool
from activities.tools.shell import run_shell_tool
from activities.tools.sql import sql_query_tool
from taskcraft.tools import Tool

# Activity histories and agent definitions refer to these names: keep them stable.
BUILTIN_TOOL_NAMES = (
    "list_files",
    "read_file",
    "write_file",
    "http_get",
    "run_shell",
    "sql_query",
)


def builtin_tools() -> list[Tool[Any]]:
    """Fresh instances, so a caller may adjust one (say, its task queue) without sharing."""
    return [
        list_files_tool(),
        read_file_tool(),
        write_file_tool(),
        http_get_tool(),
        run_shell_tool(),
        sql_query_tool(),
    ]
