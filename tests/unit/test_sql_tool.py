"""``sql_query``: reads work, nothing writes, and the database stays in the workspace."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from activities.tools.sql import SqlQueryResult, sql_query_tool
from taskcraft.tools import ToolContext, ToolError


@pytest.fixture
async def context(tmp_path: Path) -> AsyncIterator[ToolContext]:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    make_database(workspace / "data.db")
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


def make_database(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE orders (id INTEGER, item TEXT, price REAL, raw BLOB)")
        connection.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?)",
            [(n, f"item-{n}", n * 1.5, bytes([n])) for n in range(1, 6)],
        )
    connection.close()


async def query(context: ToolContext, sql: str, **arguments: object) -> SqlQueryResult:
    text = await sql_query_tool().invoke({"query": sql, **arguments}, context)
    return SqlQueryResult.model_validate_json(text)


def order_count(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        (count,) = connection.execute("SELECT count(*) FROM orders").fetchone()
    finally:
        connection.close()
    return int(count)


async def test_select_returns_columns_and_json_rows(context: ToolContext) -> None:
    """Blobs come back as a hex literal, so every row is plain JSON."""
    result = await query(context, "SELECT id, item, price, raw FROM orders WHERE id <= 2")
    assert result.columns == ["id", "item", "price", "raw"]
    assert result.rows == [[1, "item-1", 1.5, "x'01'"], [2, "item-2", 3.0, "x'02'"]]
    assert (result.row_count, result.truncated) == (2, False)


async def test_max_rows_cuts_and_says_so(context: ToolContext) -> None:
    result = await query(context, "SELECT id FROM orders ORDER BY id", max_rows=3)
    assert result.rows == [[1], [2], [3]]
    assert (result.row_count, result.truncated) == (3, True)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO orders VALUES (9, 'x', 1, NULL)",
        "DELETE FROM orders",
        "DROP TABLE orders",
        "CREATE TABLE other (a)",
    ],
)
async def test_writes_fail_because_the_database_is_read_only(
    context: ToolContext, statement: str
) -> None:
    with pytest.raises(ToolError, match="readonly"):
        await query(context, statement)
    assert order_count(context.workspace / "data.db") == 5


@pytest.mark.parametrize(
    "statement",
    ["VACUUM INTO '{target}'", "ATTACH DATABASE '{target}' AS other"],
)
async def test_no_statement_creates_files_elsewhere(
    context: ToolContext, tmp_path: Path, statement: str
) -> None:
    """Even on a read-only connection SQLite would let these write a file anywhere."""
    target = tmp_path / "escaped.db"
    with pytest.raises(ToolError):
        await query(context, statement.format(target=target))
    assert not target.exists()


@pytest.mark.parametrize(
    ("database", "refusal"),
    [
        ("../outside.db", "outside the workspace"),
        ("/etc/passwd", "is absolute"),
        ("~/data.db", "home directory"),
        ("link.db", "outside the workspace"),
    ],
)
async def test_databases_outside_the_workspace_are_refused(
    context: ToolContext, tmp_path: Path, database: str, refusal: str
) -> None:
    make_database(tmp_path / "outside.db")
    (context.workspace / "link.db").symlink_to(tmp_path / "outside.db")
    with pytest.raises(ToolError, match=refusal):
        await query(context, "SELECT * FROM orders", database=database)


async def test_missing_database_and_bad_sql_are_reported(context: ToolContext) -> None:
    with pytest.raises(ToolError, match=r"No SQLite database file 'absent\.db'"):
        await query(context, "SELECT 1", database="absent.db")
    assert not (context.workspace / "absent.db").exists()
    with pytest.raises(ToolError, match="syntax error"):
        await query(context, "SELEC 1")
