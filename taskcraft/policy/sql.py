"""What an SQL text would do to the database, found by tokenising it rather than by substrings.

Comments (``--`` to end of line, ``/* */``) are dropped, string literals and quoted
identifiers (``'...'``, ``"..."``, `` `...` ``, ``[...]``) become opaque tokens, and the
text is split into statements at every ``;`` outside them, so ``select 1; DROP TABLE x``
and ``SeLeCt 1 /* ; */; drop table x`` are both seen as two statements. Each statement is
judged by its leading keyword (after ``EXPLAIN`` and a ``WITH`` clause):

* read: ``SELECT`` and ``VALUES``; everything else is a write (an allow-list, so
  ``PRAGMA``, ``ATTACH``, ``VACUUM``, ``BEGIN`` and unknown words count as writes);
* destructive: ``DROP``, ``TRUNCATE``, ``ALTER``, ``DELETE`` or ``UPDATE`` without a
  top-level ``WHERE``, and any call of ``load_extension`` or ``writefile``.

Text that does not tokenise (an unterminated string or identifier) raises
``SqlSyntaxError``; the policy treats it as a destructive write.
"""

from __future__ import annotations

from typing import NamedTuple

READ_KEYWORDS = frozenset({"SELECT", "VALUES"})
DESTRUCTIVE_KEYWORDS = frozenset({"DROP", "TRUNCATE", "ALTER"})
NEED_WHERE_KEYWORDS = frozenset({"DELETE", "UPDATE"})
DANGEROUS_FUNCTIONS = frozenset({"LOAD_EXTENSION", "WRITEFILE"})
_MAIN_KEYWORDS = frozenset({"SELECT", "VALUES", "INSERT", "UPDATE", "DELETE", "REPLACE"})
_OPAQUE = "<quoted>"
_CLOSERS = {"'": "'", '"': '"', "`": "`", "[": "]"}


class SqlSyntaxError(ValueError):
    pass


class SqlVerdict(NamedTuple):
    is_write: bool
    destructive: str | None  # why it is destructive, or None
    keywords: list[str]  # the leading keyword of each statement


def classify_sql(sql: str) -> SqlVerdict:
    """Whether ``sql`` writes and whether it is destructive; raises ``SqlSyntaxError``."""
    is_write = False
    destructive: str | None = None
    keywords: list[str] = []
    for statement in split_statements(sql):
        keyword, body = _main_clause(statement)
        keywords.append(keyword)
        is_write = is_write or keyword not in READ_KEYWORDS
        destructive = destructive or _destructive(keyword, body, statement)
    return SqlVerdict(is_write, destructive, keywords)


def split_statements(sql: str) -> list[list[str]]:
    """Tokens of each non-empty statement: upper-cased words, punctuation, opaque quotes."""
    statements: list[list[str]] = [[]]
    index = 0
    while index < len(sql):
        char = sql[index]
        if char.isspace():
            index += 1
        elif sql.startswith("--", index):
            end = sql.find("\n", index)
            index = len(sql) if end < 0 else end + 1
        elif sql.startswith("/*", index):
            end = sql.find("*/", index + 2)  # SQLite lets an unterminated comment run to the end
            index = len(sql) if end < 0 else end + 2
        elif char in _CLOSERS:
            index = _skip_quoted(sql, index)
            statements[-1].append(_OPAQUE)
        elif char == ";":
            statements.append([])
            index += 1
        elif char.isalnum() or char in "_$":
            start = index
            while index < len(sql) and (sql[index].isalnum() or sql[index] in "_$"):
                index += 1
            statements[-1].append(sql[start:index].upper())
        else:
            statements[-1].append(char)
            index += 1
    return [statement for statement in statements if statement]


def _skip_quoted(sql: str, start: int) -> int:
    closer = _CLOSERS[sql[start]]
    index = start + 1
    while True:
        end = sql.find(closer, index)
        if end < 0:
            raise SqlSyntaxError(f"unterminated {sql[start]} quote at offset {start}")
        if closer != "]" and sql.startswith(closer * 2, end):  # a doubled quote escapes itself
            index = end + 2
            continue
        return end + 1


def _main_clause(statement: list[str]) -> tuple[str, list[str]]:
    """The keyword that decides what the statement does, and the tokens from it on."""
    tokens = statement
    if tokens[0] == "EXPLAIN":  # judged as what it explains: an over-approximation
        tokens = tokens[1:]
        if tokens[:2] == ["QUERY", "PLAN"]:
            tokens = tokens[2:]
    if tokens and tokens[0] == "WITH":
        depth = 0
        for position, token in enumerate(tokens):
            depth += (token == "(") - (token == ")")
            if depth == 0 and token in _MAIN_KEYWORDS:
                return token, tokens[position:]
    return (tokens[0], tokens) if tokens else ("EXPLAIN", statement)


def _destructive(keyword: str, body: list[str], statement: list[str]) -> str | None:
    if keyword in DESTRUCTIVE_KEYWORDS:
        return f"{keyword} statement"
    if keyword in NEED_WHERE_KEYWORDS and not _has_top_level_where(body):
        return f"{keyword} without WHERE"
    called = [token for token in statement if token in DANGEROUS_FUNCTIONS]
    return f"calls {called[0].lower()}()" if called else None


def _has_top_level_where(body: list[str]) -> bool:
    depth = 0
    for token in body:
        depth += (token == "(") - (token == ")")
        if depth == 0 and token == "WHERE":
            return True
    return False
