"""What an awk or sed program may do besides reading and printing, found by tokenising it.

``awk_facts`` finds ``system(...)``, commands piped to or from (``print | "cmd"``,
``"cmd" | getline``), output redirection inside ``print``/``printf`` (``>`` there is a
redirection, elsewhere a comparison), files read with ``getline <``, and gawk's ``@load``
and ``@include``. ``sed_facts`` walks sed's commands and finds ``w``/``W`` and the ``w``
flag (writes), ``r``/``R`` (reads), and ``e`` and the ``e`` flag (runs commands).

A command or file given as one string literal is reported as that text, so it can be
judged; one built at run time is reported as dynamic. Text that does not tokenise is
``unparsed``: callers treat it as neither read-only nor safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_AWK_TOKEN = re.compile(
    r"""(?P<space>[ \t\r]+|\\\n)|(?P<newline>\n)|(?P<comment>\#[^\n]*)
    |(?P<string>"(?:[^"\\\n]|\\.)*")|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<number>[0-9.]+(?:[eE][-+]?[0-9]+)?)
    |(?P<op>\|\||\|&|&&|>>|>=|<=|==|!=|\+\+|--|[-+*/%^!~<>|?:=,;(){}\[\]$@])""",
    re.VERBOSE,
)
_REGEX_BEFORE = frozenset({None, "(", ",", "{", "}", ";", "!", "~", "&&", "||", "\n", "==", "!=", "?", ":", "=", "return", "print", "printf"})  # fmt: skip
_STATEMENT_END = frozenset({";", "}", "\n", "{"})


@dataclass
class Facts:
    commands: list[str] = field(default_factory=list)  # literal commands it runs
    piped_to: list[str] = field(default_factory=list)  # commands its output is piped into
    dynamic_command: bool = False  # runs a command built at run time
    writes: list[str] = field(default_factory=list)  # literal files it writes
    dynamic_write: bool = False
    reads: list[str] = field(default_factory=list)  # literal files it reads besides operands
    dynamic_read: bool = False
    loads_code: bool = False  # @load, @include: code nobody has seen
    unparsed: str | None = None

    @property
    def only_reads(self) -> bool:
        return not (
            self.commands
            or self.dynamic_command
            or self.writes
            or self.dynamic_write
            or self.dynamic_read
            or self.loads_code
            or self.unparsed
        )


def awk_facts(program: str) -> Facts:
    facts = Facts()
    tokens = _awk_tokens(program, facts)
    if facts.unparsed:
        return facts
    for index, (kind, text) in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else ("", "")
        previous = tokens[index - 1] if index else ("", "")
        if kind == "name" and text == "system" and following[1] == "(":
            _literal_argument(tokens, index + 1, facts.commands, facts, "command")
        elif kind == "op" and text in ("|", "|&"):
            if previous[0] == "string" and following[1] == "getline":
                facts.commands.append(_unquote(previous[1]))
            elif following[0] == "string":
                facts.commands.append(_unquote(following[1]))
                facts.piped_to.append(_unquote(following[1]))
            else:
                facts.dynamic_command = True
        elif kind == "name" and text in ("print", "printf"):
            _print_redirection(tokens, index + 1, facts)
        elif kind == "name" and text == "getline":
            _getline_source(tokens, index + 1, facts)
        elif kind == "op" and text == "@" and following[1] in ("load", "include"):
            facts.loads_code = True
    return facts


def _awk_tokens(program: str, facts: Facts) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    index = 0
    while index < len(program):
        previous = tokens[-1][1] if tokens else None
        if program[index] == "/" and previous in _REGEX_BEFORE:
            end = _regex_end(program, index)
            if end < 0:
                facts.unparsed = "an unterminated regular expression"
                return tokens
            tokens.append(("regex", program[index : end + 1]))
            index = end + 1
            continue
        match = _AWK_TOKEN.match(program, index)
        if match is None:
            facts.unparsed = f"unexpected {program[index]!r}"
            return tokens
        kind = match.lastgroup or ""
        if kind == "newline":
            tokens.append(("op", "\n"))
        elif kind not in ("space", "comment"):
            tokens.append((kind, match.group(0)))
        index = match.end()
    return tokens


def _regex_end(text: str, start: int) -> int:
    index, in_class = start + 1, False
    while index < len(text) and text[index] != "\n":
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "/" and not in_class:
            return index
        index += 1
    return -1


def _literal_argument(
    tokens: list[tuple[str, str]], open_index: int, found: list[str], facts: Facts, what: str
) -> None:
    depth, inner = 0, []
    for kind, text in tokens[open_index:]:
        depth += (text == "(") - (text == ")")
        if depth == 0:
            break
        if not (depth == 1 and text == "("):
            inner.append((kind, text))
    if len(inner) == 1 and inner[0][0] == "string":
        found.append(_unquote(inner[0][1]))
    elif what == "command":
        facts.dynamic_command = True


def _print_redirection(tokens: list[tuple[str, str]], start: int, facts: Facts) -> None:
    depth = 0
    for index in range(start, len(tokens)):
        kind, text = tokens[index]
        if depth == 0 and text in _STATEMENT_END:
            return
        depth += (text in "([") - (text in ")]")
        if depth == 0 and text in (">", ">>"):
            target = tokens[index + 1] if index + 1 < len(tokens) else ("", "")
            if target[0] == "string":
                facts.writes.append(_unquote(target[1]))
            else:
                facts.dynamic_write = True
            return
        del kind


def _getline_source(tokens: list[tuple[str, str]], start: int, facts: Facts) -> None:
    index = start
    if index < len(tokens) and tokens[index][0] == "name":
        index += 1  # getline var < file
    if index < len(tokens) and tokens[index][1] == "<":
        source = tokens[index + 1] if index + 1 < len(tokens) else ("", "")
        if source[0] == "string":
            facts.reads.append(_unquote(source[1]))
        else:
            facts.dynamic_read = True


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


# --- sed ------------------------------------------------------------------------------

_SED_SIMPLE = frozenset("=dDgGhHlnNpPqQxzF}")
_SED_LABELLED = frozenset(":btT")


def sed_facts(script: str) -> Facts:
    facts = Facts()
    index = 0
    try:
        while index < len(script):
            index = _sed_command(script, index, facts)
    except IndexError:
        facts.unparsed = "an unterminated command"
    return facts


def _sed_command(text: str, index: int, facts: Facts) -> int:
    index = _skip(text, index, " \t\n;")
    if index >= len(text):
        return index
    index = _sed_address(text, index)
    index = _skip(text, index, " \t")
    if text[index] == ",":
        index = _skip(text, _sed_address(text, _skip(text, index + 1, " \t")), " \t")
    while text[index] in "! \t":
        index += 1
    command = text[index]
    index += 1
    if command == "#" or command in "aic" or command in _SED_LABELLED or command == "v":
        return _line_end(text, index, stop_at_semicolon=command in _SED_LABELLED | {"v"})
    if command in "{":
        return index
    if command in _SED_SIMPLE:
        while index < len(text) and text[index].isdigit():
            index += 1
        return index
    if command in "rRwW":
        end = _line_end(text, index, stop_at_semicolon=False)
        name = text[index:end].strip()
        (facts.reads if command in "rR" else facts.writes).append(name)
        return end
    if command == "e":
        end = _line_end(text, index, stop_at_semicolon=False)
        command_text = text[index:end].strip()
        if command_text:
            facts.commands.append(command_text)
        else:
            facts.dynamic_command = True  # runs the pattern space
        return end
    if command == "y":
        delimiter = text[index]
        index = _delimited(text, _delimited(text, index + 1, delimiter), delimiter)
        return index
    if command == "s":
        return _sed_substitute(text, index, facts)
    facts.unparsed = f"unknown sed command {command!r}"
    return len(text)


def _sed_substitute(text: str, index: int, facts: Facts) -> int:
    delimiter = text[index]
    index = _delimited(text, _delimited(text, index + 1, delimiter), delimiter)
    while index < len(text) and text[index] not in ";\n}":
        flag = text[index]
        if flag == "e":
            facts.dynamic_command = True
        elif flag == "w":
            end = _line_end(text, index + 1, stop_at_semicolon=False)
            facts.writes.append(text[index + 1 : end].strip())
            return end
        elif not (flag.isdigit() or flag in "gpiImM \t"):
            facts.unparsed = f"unknown s flag {flag!r}"
            return len(text)
        index += 1
    return index


def _sed_address(text: str, index: int) -> int:
    char = text[index]
    if char.isdigit() or char in "$+~":
        while index < len(text) and (text[index].isdigit() or text[index] in "$+~"):
            index += 1
        return index
    if char in "/\\":
        delimiter = "/" if char == "/" else text[index + 1]
        index = _delimited(text, index + (1 if char == "/" else 2), delimiter)
        while index < len(text) and text[index] in "IM":
            index += 1
    return index


def _delimited(text: str, index: int, delimiter: str) -> int:
    """Index after the next unescaped ``delimiter`` from ``index``."""
    while text[index] != delimiter:
        index += 2 if text[index] == "\\" else 1
    return index + 1


def _line_end(text: str, index: int, *, stop_at_semicolon: bool) -> int:
    while index < len(text) and text[index] != "\n":
        if stop_at_semicolon and text[index] in ";}":
            break
        index += 1
    return index


def _skip(text: str, index: int, chars: str) -> int:
    while index < len(text) and text[index] in chars:
        index += 1
    return index
