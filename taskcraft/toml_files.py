"""Reading TOML configuration and reporting every problem as ``file:line: key: message``.

Agent files and folder settings are written by people, so a mistake must point at its
line. ``tomllib`` gives no positions for values, so the line is found by looking for the
key under its table header (``[budgets]``, the n-th ``[[inputs]]``); when that fails the
message still names the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\s\"]+?)\s*\]\]?\s*(#.*)?$")


class TomlProblems(Exception):
    """Every problem found in one file, each line ``file:line: message``."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """The parsed document and its text; ``TomlProblems`` for unreadable or invalid TOML."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TomlProblems([f"{path}: no such file"]) from None
    except UnicodeDecodeError as error:
        raise TomlProblems([f"{path}: not UTF-8 text ({error.reason})"]) from None
    except OSError as error:
        raise TomlProblems([f"{path}: cannot be read ({error.strerror or error})"]) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        position = _TOML_POSITION.search(message)
        if position:
            line = position.group(1)
            raise TomlProblems(
                [f"{path}:{line}: invalid TOML: {_TOML_POSITION.sub('', message)}"]
            ) from None
        raise TomlProblems([f"{path}: invalid TOML: {message}"]) from None


def describe(error: ValidationError, text: str, source: str, renames: dict[str, str]) -> list[str]:
    """One ``source:line: key: message`` per validation error, in file order.

    ``renames`` maps a model's field names back to the keys people write in the file.
    """
    lines = text.splitlines()
    found: list[tuple[int, str]] = []
    for item in error.errors():
        loc = tuple(
            renames.get(part, part) if isinstance(part, str) else part for part in item["loc"]
        )
        key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
        key = key.removeprefix(".") or "(top level)"
        line = line_of(lines, loc)
        where = f"{source}:{line}" if line else source
        message = str(item["msg"]).removeprefix("Value error, ")
        found.append((line or 0, f"{where}: {key}: {message}"))
    return [message for _, message in sorted(found, key=lambda pair: pair[0])]


def line_of(lines: list[str], loc: tuple[int | str, ...]) -> int | None:
    """Best effort: the line that holds the value at ``loc`` (1-based), or None."""
    start, end = 0, _next_header(lines, 0)
    path: list[str] = []
    index = 0
    while index < len(loc):
        part = loc[index]
        if not isinstance(part, str):
            index += 1
            continue
        following = loc[index + 1] if index + 1 < len(loc) else None
        header = ".".join([*path, part])
        if isinstance(following, int):
            found = _nth_header(lines, header, following, array=True)
            if found is not None:
                start, end = found, _next_header(lines, found + 1)
                path.append(part)
                index += 2
                continue
        table = _nth_header(lines, header, 0, array=False)
        if table is not None:
            start, end = table, _next_header(lines, table + 1)
            path.append(part)
            index += 1
            continue
        key_line = _find_key(lines, start, end, part)
        return key_line if key_line is not None else (start + 1 if path else None)
    return start + 1 if path else None


def _next_header(lines: list[str], start: int) -> int:
    return next((n for n in range(start, len(lines)) if _HEADER.match(lines[n])), len(lines))


def _nth_header(lines: list[str], name: str, nth: int, *, array: bool) -> int | None:
    seen = 0
    for number, line in enumerate(lines):
        found = _HEADER.match(line)
        if not found:
            continue
        is_array = found.group(1) == "[["
        if is_array == array and found.group(2).replace(" ", "").replace('"', "") == name:
            if seen == nth:
                return number
            seen += 1
    return None


def _find_key(lines: list[str], start: int, end: int, key: str) -> int | None:
    pattern = re.compile(rf"(^|[{{,\s]){re.escape(key)}\s*=")
    return next((n + 1 for n in range(start, end) if pattern.search(lines[n])), None)
