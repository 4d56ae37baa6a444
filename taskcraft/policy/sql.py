"""What an SQL text would do to the database, found by tokenising it rather than by substrings.

Comments (``--`` to end of line, ``/* */``) are dropped, string literals and quoted
identifiers (``'...'``, ``"..."``, `` `...` ``, ``[...]``) become opaque tokens, and the
text is split into statements at every ``;`` outside them, so ``select 1; DROP TABLE x``
and ``SeLeCt 1 /* ; */; drop table x`` are both seen as two statements.

Databases disagree about comments and quotes, so the text is tokenised twice: as SQLite
and standard SQL read it, and as MySQL does (``#`` starts a comment, ``--`` needs a space
after it, backslashes escape quotes, ``/*! ... */`` is *run*); the worse reading wins.
A ``#`` or a ``/*!`` anywhere outside quotes is itself destructive: what runs depends on
the server.

Every statement is classified, and so is every parenthesised statement inside one (the
bodies of ``WITH`` clauses included), each by its leading keyword (after ``EXPLAIN``):

* read: ``SELECT``, ``VALUES``, ``TABLE``, ``SHOW``; everything else is a write (an
  allow-list, so ``PRAGMA``, ``ATTACH``, ``VACUUM``, ``BEGIN`` and unknown words count);
* destructive: ``DROP``, ``TRUNCATE``, ``ALTER``, ``RENAME``, ``GRANT``, ``REVOKE``,
  ``DELETE`` or ``UPDATE`` without a top-level ``WHERE``; dynamic SQL (``EXECUTE``,
  ``EXEC``, ``PREPARE``, ``DO``), whose text the policy cannot see; reading or writing
  server files (``LOAD DATA``, ``COPY`` to or from a file or a program, ``INTO OUTFILE``,
  ``VACUUM INTO``); and calls of functions that read or write files, load code or reach
  other servers (``load_extension``, ``writefile``, ``pg_read_file``, ``dblink``...).

Text that does not tokenise (an unterminated string or identifier) raises
``SqlSyntaxError``; the policy treats it as a destructive write.
"""

from __future__ import annotations

from typing import NamedTuple


def _words(text: str) -> list[str]:
    return text.split()  # a call, so the linter keeps word lists as readable strings


READ_KEYWORDS = frozenset({"SELECT", "VALUES", "TABLE", "SHOW", "DESCRIBE", "DESC"})
DESTRUCTIVE_KEYWORDS = frozenset(
    {"DROP", "TRUNCATE", "ALTER", "RENAME", "GRANT", "REVOKE", "SHUTDOWN", "KILL", "PURGE"}
)
DYNAMIC_KEYWORDS = frozenset({"EXECUTE", "EXEC", "PREPARE", "DO", "SP_EXECUTESQL"})
NEED_WHERE_KEYWORDS = frozenset({"DELETE", "UPDATE"})
DANGEROUS_FUNCTIONS = frozenset(
    _words(
        """LOAD_EXTENSION WRITEFILE READFILE EDIT FTS3_TOKENIZER LOAD_FILE PG_READ_FILE
        PG_READ_BINARY_FILE PG_LS_DIR PG_STAT_FILE LO_IMPORT LO_EXPORT DBLINK DBLINK_EXEC
        DBLINK_CONNECT XP_CMDSHELL SP_OACREATE SP_EXECUTE_EXTERNAL_SCRIPT SYS_EXEC SYS_EVAL
        PG_TERMINATE_BACKEND PG_CANCEL_BACKEND PG_RELOAD_CONF OPENROWSET OPENDATASOURCE
        QUERY_TO_XML"""
    )
)
STATEMENT_KEYWORDS = frozenset(
    {"SELECT", "VALUES", "INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "WITH", "TABLE"}
)
_ACCOUNTS = frozenset({"USER", "ROLE", "LOGIN", "GROUP"})
_MAIN_KEYWORDS = frozenset(
    {"SELECT", "VALUES", "INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "TABLE"}
)
_OPAQUE = "<quoted>"
_CLOSERS = {"'": "'", '"': '"', "`": "`", "[": "]"}
STANDARD, MYSQL = "standard", "mysql"


class SqlSyntaxError(ValueError):
    pass


class SqlVerdict(NamedTuple):
    is_write: bool
    destructive: str | None  # why it is destructive, or None
    keywords: list[str]  # the leading keyword of each statement


class Statement(NamedTuple):
    tokens: list[str]
    text: str  # as written, for people


def classify_sql(sql: str) -> SqlVerdict:
    """Whether ``sql`` writes and whether it is destructive; raises ``SqlSyntaxError``."""
    is_write = False
    destructive: str | None = None
    keywords: list[str] = []
    for dialect in (STANDARD, MYSQL):
        statements, warning = _tokenise(sql, dialect)
        destructive = destructive or warning
        for statement in statements:
            for keyword, write, why in _judge(statement.tokens):
                if dialect == STANDARD:
                    keywords.append(keyword)
                is_write = is_write or write
                destructive = destructive or why
    return SqlVerdict(is_write, destructive, list(dict.fromkeys(keywords)))


def describe(sql: str) -> list[str]:
    """One line per statement (and statement inside one): keyword, verdict, text."""
    try:
        statements, warning = _tokenise(sql, STANDARD)
    except SqlSyntaxError as error:
        return [f"cannot be parsed: {error}"]
    lines = [f"warning: {warning}"] if warning else []
    for statement in statements:
        text = " ".join(statement.text.split())
        for depth, (keyword, write, why) in enumerate(_judge(statement.tokens)):
            verdict = f"destructive: {why}" if why else "write" if write else "read"
            lines.append(
                f"{'  ' * min(depth, 1)}{keyword} ({verdict})" + ("" if depth else f": {text}")
            )
    try:
        classify_sql(sql)
    except SqlSyntaxError as error:
        lines.append(f"as MySQL reads it, cannot be parsed: {error}")
    return lines


def split_statements(sql: str) -> list[list[str]]:
    """Tokens of each non-empty statement: upper-cased words, punctuation, opaque quotes."""
    return [statement.tokens for statement in _tokenise(sql, STANDARD)[0]]


def _tokenise(sql: str, dialect: str) -> tuple[list[Statement], str | None]:
    """Statements as ``dialect`` reads ``sql``, and a warning about server-dependent syntax."""
    statements: list[Statement] = []
    tokens: list[str] = []
    warning: str | None = None
    start = index = 0
    while index < len(sql):
        char = sql[index]
        if char.isspace():
            index += 1
        elif (
            sql.startswith("--", index)
            and (dialect == STANDARD or sql[index + 2 : index + 3] in ("", " ", "\t", "\n", "\r"))
        ) or (char == "#" and dialect == MYSQL):
            end = sql.find("\n", index)
            index = len(sql) if end < 0 else end + 1
        elif sql.startswith("/*!", index) or sql.startswith("/*M!", index):
            warning = warning or "a MySQL executable comment (/*! ... */): the server runs it"
            if dialect == MYSQL:  # the server runs what is inside: read it as code
                skip = 3 if sql.startswith("/*!", index) else 4
                while index + skip < len(sql) and sql[index + skip].isdigit():
                    skip += 1
                end = sql.find("*/", index)
                inner = sql[index + skip : len(sql) if end < 0 else end]
                sql = sql[:index] + " " + inner + " " + sql[len(sql) if end < 0 else end + 2 :]
                continue
            end = sql.find("*/", index + 2)
            index = len(sql) if end < 0 else end + 2
        elif sql.startswith("/*", index):
            end = sql.find("*/", index + 2)  # SQLite lets an unterminated comment run to the end
            index = len(sql) if end < 0 else end + 2
        elif char in _CLOSERS:
            index = _skip_quoted(sql, index, backslashes=dialect == MYSQL and char != "[")
            tokens.append(_OPAQUE)
        elif char == ";":
            if tokens:
                statements.append(Statement(tokens, sql[start:index].strip()))
            tokens, start = [], index + 1
            index += 1
        elif char.isalnum() or char in "_$":
            begin = index
            while index < len(sql) and (sql[index].isalnum() or sql[index] in "_$"):
                index += 1
            tokens.append(sql[begin:index].upper())
        else:
            if char == "#":
                warning = warning or "a '#' (a MySQL comment): where it ends depends on the server"
            tokens.append(char)
            index += 1
    if tokens:
        statements.append(Statement(tokens, sql[start:].strip()))
    return statements, warning


def _skip_quoted(sql: str, start: int, *, backslashes: bool) -> int:
    closer = _CLOSERS[sql[start]]
    index = start + 1
    while True:
        end = sql.find(closer, index)
        if backslashes:
            escape = sql.find("\\", index)
            if 0 <= escape < end:
                index = escape + 2
                continue
        if end < 0:
            raise SqlSyntaxError(f"unterminated {sql[start]} quote at offset {start}")
        if closer != "]" and sql.startswith(closer * 2, end):  # a doubled quote escapes itself
            index = end + 2
            continue
        return end + 1


def _judge(tokens: list[str]) -> list[tuple[str, bool, str | None]]:
    """(keyword, writes, why destructive) for the statement and every statement inside it."""
    keyword, body = _main_clause(tokens)
    found = [(keyword, keyword not in READ_KEYWORDS, _destructive(keyword, body, tokens))]
    inner_statements = _parenthesised_statements(tokens)
    if keyword == "CREATE" and "BEGIN" in tokens:  # a trigger's body: BEGIN stmt; stmt; END
        inner_statements.append(tokens[tokens.index("BEGIN") + 1 :])
    for inner in inner_statements:
        for inner_keyword, write, why in _judge(inner):
            found.append((inner_keyword, write, why))
    if keyword in READ_KEYWORDS and _writes_anyway(body):
        found[0] = (keyword, True, found[0][2])
    return found


def _main_clause(statement: list[str]) -> tuple[str, list[str]]:
    """The keyword that decides what the statement does, and the tokens from it on."""
    tokens = statement
    while tokens and tokens[0] == "(":
        tokens = tokens[1:]
    if tokens and tokens[0] == "EXPLAIN":  # judged as what it explains: an over-approximation
        tokens = tokens[1:]
        while tokens and tokens[0] in ("QUERY", "PLAN", "ANALYZE", "ANALYSE", "VERBOSE"):
            tokens = tokens[1:]
    if tokens and tokens[0] == "WITH":
        depth = 0
        for position, token in enumerate(tokens):
            depth += (token == "(") - (token == ")")
            if depth == 0 and token in _MAIN_KEYWORDS:
                return token, tokens[position:]
    return (tokens[0], tokens) if tokens else ("EXPLAIN", statement)


def _parenthesised_statements(tokens: list[str]) -> list[list[str]]:
    """Top-level ``( SELECT|INSERT|UPDATE|DELETE|WITH ... )`` groups, e.g. CTE bodies."""
    groups: list[list[str]] = []
    depth, start = 0, -1
    for position, token in enumerate(tokens):
        if token == "(":
            depth += 1
            if depth == 1:
                start = position + 1
        elif token == ")":
            if depth == 1 and start < position and tokens[start] in STATEMENT_KEYWORDS:
                groups.append(tokens[start:position])
            depth = max(depth - 1, 0)
    return groups


def _destructive(keyword: str, body: list[str], statement: list[str]) -> str | None:
    if keyword in DESTRUCTIVE_KEYWORDS:
        return f"{keyword} statement"
    if keyword in (".", "\\"):
        return "a client meta-command (.shell, \\!): it runs programs, not SQL"
    if keyword in ("CREATE", "ALTER", "DROP") and len(body) > 1 and body[1] in _ACCOUNTS:
        return f"{keyword} {body[1]} changes who may use the database"
    if (
        keyword == "SET"
        and len(body) > 1
        and body[1] in ("PASSWORD", "ROLE", "SESSION_AUTHORIZATION")
    ):
        return f"SET {body[1]} changes who may use the database"
    if keyword in DYNAMIC_KEYWORDS:
        return f"{keyword}: dynamic SQL, whose text the policy cannot see"
    if keyword in NEED_WHERE_KEYWORDS and not _has_top_level_where(body):
        return f"{keyword} without WHERE"
    if keyword == "LOAD" or (keyword == "COPY" and not _copies_to_client(body)):
        return f"{keyword} reads or writes files on the server"
    if keyword == "VACUUM" and "INTO" in body:
        return "VACUUM INTO writes a copy of the database to a file"
    if "INTO" in body and any(word in body for word in ("OUTFILE", "DUMPFILE")):
        return "SELECT ... INTO OUTFILE writes a file on the server"
    calls = list(zip(statement, [*statement[1:], ""], strict=True))
    called = [
        token for token, following in calls if token in DANGEROUS_FUNCTIONS and following == "("
    ]
    if called:
        return f"calls {called[0].lower()}()"
    if any(token == _OPAQUE and following == "(" for token, following in calls):
        return "calls a function by a quoted name, so the policy cannot tell which"
    if any(token in ("EXEC", "EXECUTE", "SP_EXECUTESQL") for token in statement[1:]):
        return "runs dynamic SQL, whose text the policy cannot see"
    return None


def _copies_to_client(body: list[str]) -> bool:
    return ("STDOUT" in body or "STDIN" in body) and "PROGRAM" not in body


def _writes_anyway(body: list[str]) -> bool:
    """A SELECT that locks rows, creates a table or advances a sequence."""
    return (
        ("FOR" in body and any(word in body for word in ("UPDATE", "SHARE")))
        or ("INTO" in body and body[: body.index("INTO")].count("FROM") == 0)
        or any(word in body for word in ("NEXTVAL", "SETVAL", "SET_CONFIG"))
    )


def _has_top_level_where(body: list[str]) -> bool:
    depth = 0
    for token in body:
        depth += (token == "(") - (token == ")")
        if depth == 0 and token == "WHERE":
            return True
    return False
