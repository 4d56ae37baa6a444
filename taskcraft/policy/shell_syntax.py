"""Splitting a shell command line into the simple commands bash would run, in order.

A small scanner walks the text with bash's quoting rules (single quotes, double quotes,
backslash escapes, line continuations) and cuts it at the operators that are *not*
quoted: ``;``, ``&``, ``&&``, ``|``, ``||``, ``|&``, newlines and parentheses. Command
substitutions (``$(...)``, backticks, ``${...}``, ``<(...)``, ``>(...)``) are parsed
recursively and listed *before* the command they appear in, which is when bash runs
them; in the command's own words they become ``$(...)``, which starts with ``$`` so
that nobody mistakes it for a known program or a plain path. Each piece is then split
into words by ``shlex`` (POSIX rules, no comments) and its redirections taken out.

Why not ``shlex`` alone: it cannot tell the operator ``;`` from a quoted ``';'``, and it
knows nothing of substitutions or line continuations, each of which is a bypass.
``#`` is never treated as a comment: analysing a comment as code only ever flags more.
Text that does not parse (an unclosed quote or parenthesis) raises ``ShellSyntaxError``.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

SUBSTITUTION = "$(...)"
MAX_DEPTH = 8  # nested substitutions and ``sh -c`` levels before we give up (fail closed)
REDIRECTIONS = ("&>>", "&>", "<<<", "<<-", "<<", "<>", "<&", ">>", ">|", ">&", "<", ">")
WRITE_REDIRECTIONS = frozenset({"&>>", "&>", "<>", ">>", ">|", ">&", ">"})


class ShellSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]  # argv as bash would see it, redirections removed
    redirects: tuple[tuple[str, str], ...]  # (operator, target)


def parse(text: str, depth: int = 0) -> list[Command]:
    """Every simple command in ``text``, substitutions first; raises ``ShellSyntaxError``."""
    if depth > MAX_DEPTH:
        raise ShellSyntaxError("commands nested too deeply to analyse")
    return _Scanner(text, depth).run()


class _Scanner:
    def __init__(self, text: str, depth: int) -> None:
        self.text = text
        self.depth = depth
        self.piece: list[str] = []  # the current simple command, quoting intact
        self.commands: list[Command] = []

    def run(self) -> list[Command]:
        text, index = self.text, 0
        while index < len(text):
            char, pair = text[index], text[index : index + 2]
            if pair == "\\\n":
                index += 2  # a line continuation joins the lines
            elif char == "\\":
                self.piece.append(pair)
                index += 2
            elif char == "'":
                end = self._closing_single_quote(index)
                self.piece.append(text[index : end + 1])
                index = end + 1
            elif char == '"':
                index = self._double_quoted(index)
            elif pair in ("$(", "${", "<(", ">(") or char == "`":
                index = self._substitution(index)
            elif char in "<>" or pair == "&>":
                operator = next(op for op in REDIRECTIONS if text.startswith(op, index))
                self.piece.append(f" {operator} ")
                index += len(operator)
            elif char in ";&|()\n":
                self._end_command()
                index += 2 if pair in ("&&", "||", "|&") else 1
            else:
                self.piece.append(char)
                index += 1
        self._end_command()
        return self.commands

    def _double_quoted(self, start: int) -> int:
        text, index = self.text, start + 1
        self.piece.append('"')
        while index < len(text) and text[index] != '"':
            pair = text[index : index + 2]
            if pair == "\\\n":
                index += 2
            elif text[index] == "\\":
                self.piece.append(pair)
                index += 2
            elif pair in ("$(", "${") or text[index] == "`":
                index = self._substitution(index)
            else:
                self.piece.append(text[index])
                index += 1
        if index >= len(text):
            raise ShellSyntaxError('unclosed "')
        self.piece.append('"')
        return index + 1

    def _substitution(self, start: int) -> int:
        """Parse the substitution at ``start``, record its commands, return the index after it."""
        if self.text[start] == "`":
            inner, after = self._backquoted(start)
        else:
            opener = self.text[start + 1]
            end = self._matching(start + 1, opener, "}" if opener == "{" else ")")
            inner, after = self.text[start + 2 : end], end + 1
        self.commands.extend(parse(inner, self.depth + 1))
        self.piece.append(SUBSTITUTION)
        return after

    def _backquoted(self, start: int) -> tuple[str, int]:
        text, index, inner = self.text, start + 1, []
        while index < len(text) and text[index] != "`":
            if text[index] == "\\" and index + 1 < len(text):
                escaped = text[index + 1]
                inner.append(escaped if escaped in "`\\$" else text[index : index + 2])
                index += 2
            else:
                inner.append(text[index])
                index += 1
        if index >= len(text):
            raise ShellSyntaxError("unclosed `")
        return "".join(inner), index + 1

    def _matching(self, open_index: int, opener: str, closer: str) -> int:
        """Index of the ``closer`` that balances ``text[open_index]``, skipping quoted text."""
        text, index, depth = self.text, open_index + 1, 1
        while index < len(text):
            char = text[index]
            if char == "\\":
                index += 2
                continue
            if char == "'":
                index = self._closing_single_quote(index)
            elif char in '"`':
                index = self._closing(index, char)
            elif char == opener:
                depth += 1
            elif char == closer:
                depth -= 1
                if depth == 0:
                    return index
            index += 1
        raise ShellSyntaxError(f"unclosed {opener}")

    def _closing_single_quote(self, start: int) -> int:
        end = self.text.find("'", start + 1)
        if end < 0:
            raise ShellSyntaxError("unclosed '")
        return end

    def _closing(self, start: int, quote: str) -> int:
        index = start + 1
        while index < len(self.text) and self.text[index] != quote:
            index += 2 if self.text[index] == "\\" else 1
        if index >= len(self.text):
            raise ShellSyntaxError(f"unclosed {quote}")
        return index

    def _end_command(self) -> None:
        try:
            words = shlex.split("".join(self.piece))
        except ValueError as error:
            raise ShellSyntaxError(str(error)) from error
        self.piece = []
        argv: list[str] = []
        redirects: list[tuple[str, str]] = []
        position = 0
        while position < len(words):
            word = words[position]
            if word in REDIRECTIONS:
                if position + 1 >= len(words):
                    raise ShellSyntaxError(f"{word} without a target")
                redirects.append((word, words[position + 1]))
                position += 2
            else:
                argv.append(word)
                position += 1
        if argv or redirects:
            self.commands.append(Command(tuple(argv), tuple(redirects)))
