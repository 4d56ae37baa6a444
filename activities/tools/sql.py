"""``sql_query``: read-only SQL over a SQLite database in the workspace.

Opening with ``mode=ro`` is not enough on its own: ``ATTACH`` can create files and
``VACUUM INTO`` can write a copy anywhere even on a read-only connection. So attaching is
limited to zero databases and ``query_only`` is on as well. A progress handler stops a
runaway query, since sqlite3 calls cannot be cancelled from the event loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

from pydantic import BaseModel, Field

from activities.tools.files import resolve_in_workspace
from taskcraft.tools import Tool, ToolContext, ToolError

QUERY_TIMEOUT_S = 30.0
MAX_ROWS = 5_000
MAX_BLOB_HEX_BYTES = 256  # blobs are shown as hex, cut to this many bytes
PROGRESS_EVERY_OPS = 10_000

SqlValue = str | int | float | None


class SqlQueryArgs(BaseModel):
    query: str = Field(min_length=1, description="One SQL statement; the database is read-only.")
    database: str = Field(
        default="data.db", description="SQLite database file, relative to the workspace."
    )
    max_rows: int = Field(default=200, ge=1, le=MAX_ROWS, description="Most rows to return.")


class SqlQueryResult(BaseModel):
    columns: list[str]
    rows: list[list[SqlValue]]
    row_count: int = Field(description="Rows returned (at most max_rows).")
    truncated: bool = Field(description="True when the query produced more than max_rows.")


def _json_value(value: object) -> SqlValue:
    """SQLite values as JSON can carry them; blobs become an ``x'..'`` hex literal."""
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, bytes):
        suffix = "..." if len(value) > MAX_BLOB_HEX_BYTES else ""
        return f"x'{value[:MAX_BLOB_HEX_BYTES].hex()}'{suffix}"
    return str(value)


def _connect(path: Path) -> sqlite3.Connection:
    uri = f"file:{quote(str(path))}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
    connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    connection.execute("PRAGMA query_only = ON")
    deadline = time.monotonic() + QUERY_TIMEOUT_S
    connection.set_progress_handler(lambda: int(time.monotonic() > deadline), PROGRESS_EVERY_OPS)
    return connection


def _query(workspace: Path, args: SqlQueryArgs) -> SqlQueryResult:
    path = resolve_in_workspace(workspace, args.database)
    if not path.is_file():  # mode=ro would say only "unable to open database file"
        raise ToolError(f"No SQLite database file {args.database!r} in the workspace.")
    try:
        connection = _connect(path)
        try:
            cursor = connection.execute(args.query)
            fetched = cursor.fetchmany(args.max_rows + 1)
            columns = [column[0] for column in cursor.description or ()]
        finally:
            connection.close()
    except sqlite3.Error as error:  # syntax, readonly, interrupted, not a database
        raise ToolError(f"The query failed: {error}.") from error
    rows = [[_json_value(value) for value in row] for row in fetched[: args.max_rows]]
    return SqlQueryResult(
        columns=columns, rows=rows, row_count=len(rows), truncated=len(fetched) > args.max_rows
    )


def sql_query_tool() -> Tool[SqlQueryArgs]:
    async def run(args: SqlQueryArgs, context: ToolContext) -> SqlQueryResult:
        return await asyncio.to_thread(_query, context.workspace, args)

    return Tool(
        name="sql_query",
        arg_kinds={"query": "sql", "database": "workspace_path"},
        writes=True,
        description="Run one read-only SQL query against a SQLite database in the workspace.",
        args_model=SqlQueryArgs,
        run=run,
        timeout_s=QUERY_TIMEOUT_S + 15,
    )
