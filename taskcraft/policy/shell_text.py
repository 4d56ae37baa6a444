"""Pieces of shell text read by their own rules: ANSI-C escapes and here-document bodies."""

from __future__ import annotations

import re

from taskcraft.policy.shell_model import ShellSyntaxError

_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}  # fmt: skip
_ESCAPE_DIGITS = {"x": (16, 2), "u": (16, 4), "U": (16, 8)}


def ansi_c_quoted(text: str, start: int) -> tuple[str, int]:
    """bash's ``$'...'`` starting at the quote ``text[start]``: the decoded text (bash stops
    at a NUL) and the index after the closing quote."""
    index, decoded = start + 1, []
    while index < len(text) and text[index] != "'":
        if text[index] == "\\" and index + 1 < len(text):
            value, index = ansi_c_escape(text, index + 1)
            decoded.append(value)
        else:
            decoded.append(text[index])
            index += 1
    if index >= len(text):
        raise ShellSyntaxError("unclosed $'")
    return "".join(decoded).split("\x00", 1)[0], index + 1


def ansi_c_escape(text: str, index: int) -> tuple[str, int]:
    """The character a backslash escape at ``text[index]`` (after the backslash) stands for."""
    char = text[index]
    if char in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[char], index + 1
    if char in _ESCAPE_DIGITS:
        base, most = _ESCAPE_DIGITS[char]
        digits = re.match(rf"[0-9a-fA-F]{{1,{most}}}", text[index + 1 :])
        if digits is None:
            return "\\" + char, index + 1
        return chr(min(int(digits.group(0), base), 0x10FFFF)), index + 1 + len(digits.group(0))
    if char in "01234567":
        digits = re.match(r"[0-7]{1,3}", text[index:])
        assert digits is not None
        return chr(int(digits.group(0), 8) & 0xFF), index + len(digits.group(0))
    if char == "c" and index + 1 < len(text):
        return chr(ord(text[index + 1]) & 0x1F), index + 2
    return char, index + 1  # \\, \', \", \? and anything else: the character itself


def heredoc_bodies(
    text: str, index: int, delimiters: list[tuple[str, bool]]
) -> tuple[list[str], int]:
    """The bodies of here-documents that start at ``index`` (a line start), in order, and
    the index after the last delimiter line. ``(delimiter, strip_tabs)`` per document; a
    body without its delimiter runs to the end of the text, as bash reads it."""
    lines = text[index:].split("\n")
    consumed = 0
    bodies: list[str] = []
    for delimiter, strip_tabs in delimiters:
        body: list[str] = []
        while consumed < len(lines):
            line = lines[consumed]
            consumed += 1
            if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                break
            body.append(line)
        bodies.append("\n".join(body))
    return bodies, min(len(text), index + sum(len(line) + 1 for line in lines[:consumed]))


def heredoc_delimiter(text: str, index: int, operator: str) -> tuple[str, bool, int]:
    """The delimiter word after ``<<`` at ``index``: its text without quotes, whether it was
    quoted (then the body is not expanded), and the index after it."""
    while index < len(text) and text[index] in " \t":
        index += 1
    start = index
    while index < len(text) and text[index] not in " \t\n;&|()<>":
        if text[index] in "'\"":
            end = text.find(text[index], index + 1)
            if end < 0:
                raise ShellSyntaxError(f"unclosed {text[index]} in a here-document delimiter")
            index = end
        index += 1
    raw = text[start:index]
    if not raw:
        raise ShellSyntaxError(f"{operator} without a delimiter")
    quoted = any(char in raw for char in "'\"\\")
    return raw.replace("'", "").replace('"', "").replace("\\", ""), quoted, index
