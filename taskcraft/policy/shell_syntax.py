"""Splitting a shell command line into the simple commands bash would run, in order.

A small scanner walks the text with bash's quoting rules (single quotes, double quotes,
backslash escapes, line continuations) and cuts it at the operators that are *not*
quoted: ``;``, ``&``, ``&&``, ``|``, ``||``, ``|&``, newlines and parentheses, noting
which commands read from or write into a pipe. Command substitutions (``$(...)``,
backticks, ``<(...)``, ``>(...)``) are parsed recursively and listed *before* the
command they appear in, which is when bash runs them; in the command's own words they
become a placeholder starting with ``$`` (see ``Script.substitutions``), so nobody
mistakes one for a known program or a plain path. ``${...}`` becomes a placeholder too,
its inner substitutions parsed. Each piece is then split into words by ``shlex`` (POSIX
rules) and its redirections taken out.

Comments follow the shell: ``#`` starts one only at the start of a word, unquoted, and
it runs to the end of the line. Here-documents are read as bash reads them: the body is
the redirection's target (not commands), and when the delimiter is unquoted its
substitutions are parsed, since bash runs them. ``name() { ...; }`` and ``function name``
definitions are noted, with those whose body calls the function itself (fork bombs).
``case`` patterns are not commands. ``$'...'`` is decoded; a quoted or escaped ``$`` stays
in the words as ``LITERAL_DOLLAR``. Why not ``shlex`` alone: it cannot tell ``;`` from
``';'`` and knows nothing of substitutions or comments, each a bypass. Text that does not
parse (an unclosed quote or parenthesis) raises ``ShellSyntaxError``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace

from taskcraft.policy.shell_model import (
    CLOSE,
    HEREDOC_MARK,
    HEREDOCS,
    LITERAL_DOLLAR,
    MAX_DEPTH,
    PARAM_OPEN,
    PLACEHOLDER,
    REDIRECTIONS,
    RESERVED,
    SUB_OPEN,
    SUBSTITUTION,
    WRITE_REDIRECTIONS,
    Command,
    Script,
    ShellSyntaxError,
    Substitution,
)
from taskcraft.policy.shell_text import ansi_c_quoted, heredoc_bodies, heredoc_delimiter

__all__ = [
    "LITERAL_DOLLAR", "MAX_DEPTH", "PLACEHOLDER", "REDIRECTIONS", "SUBSTITUTION", "WRITE_REDIRECTIONS",
    "Command", "Script", "ShellSyntaxError", "Substitution", "parse", "parse_script",
]  # fmt: skip

_NAME = r"[A-Za-z_:.@+][A-Za-z0-9_:.@+-]*"
_FUNCTION_NAME_ONLY = re.compile(rf"(?:function\s+)?({_NAME})\s*")
_FUNCTION_KEYWORD = re.compile(rf"function\s+({_NAME})\s*")
_WORD_START = frozenset(" \t\n;&|()")
_CASE_HEAD = re.compile(r"\s*case\s.*\sin\s", re.DOTALL)


def parse(text: str, depth: int = 0) -> list[Command]:
    """Every simple command in ``text``, substitutions first; raises ``ShellSyntaxError``."""
    return parse_script(text, depth).commands


def parse_script(text: str, depth: int = 0, script: Script | None = None) -> Script:
    """``text`` parsed into ``script`` (a new one by default): commands, substitutions, functions.

    Pass the script a word came from to parse that word as a command line (``sh -c``):
    placeholders in it then still name that script's substitutions.
    """
    if depth > MAX_DEPTH:
        raise ShellSyntaxError("commands nested too deeply to analyse")
    if script is None:
        if RESERVED & set(text):
            raise ShellSyntaxError("contains reserved private-use characters")
        script = Script()
    script.commands.extend(_Scanner(text, depth, script).run())
    return script


class _Scanner:
    def __init__(self, text: str, depth: int, script: Script) -> None:
        self.text = text
        self.depth = depth
        self.script = script
        self.piece: list[str] = []  # the current simple command, quoting intact
        self.commands: list[Command] = []
        self.stdin_pipe = False  # the next command reads from a pipe
        self.parens = 0  # subshells open in this text
        self.in_case = 0  # ``case ... in`` open: an unmatched ``)`` ends a pattern
        self.pattern_next = False  # after ``;;``: a case pattern comes next
        self.heredocs: list[tuple[int, str, bool, bool]] = []  # (id, delimiter, -, quoted)
        self.bodies: dict[str, str] = {}

    def run(self) -> list[Command]:
        text, index = self.text, 0
        while index < len(text):
            char, pair = text[index], text[index : index + 2]
            if pair == "\\\n":
                index += 2  # a line continuation joins the lines
            elif char == "\\":
                escaped = text[index + 1 : index + 2]
                self.piece.append(LITERAL_DOLLAR if escaped == "$" else pair)
                index += 2
            elif char == "#" and self._at_word_start(index):
                end = text.find("\n", index)
                index = len(text) if end < 0 else end  # the newline still ends the command
            elif pair == "$'":
                value, index = ansi_c_quoted(text, index + 1)
                quoted = value.replace("'", "'\"'\"'").replace("$", LITERAL_DOLLAR)
                self.piece.append(f"'{quoted}'")
            elif pair == '$"':
                index += 1  # a translatable string is an ordinary double-quoted one
            elif char == "'":
                end = self._closing_single_quote(index)
                self.piece.append(text[index : end + 1].replace("$", LITERAL_DOLLAR))
                index = end + 1
            elif char == '"':
                index = self._double_quoted(index)
            elif pair in ("$(", "${", "<(", ">(") or char == "`":
                index = self._substitution(index)
            elif char in "<>" or pair == "&>":
                operator = next(op for op in REDIRECTIONS if text.startswith(op, index))
                index += len(operator)
                if operator in HEREDOCS:
                    index = self._heredoc(index, operator)
                else:
                    self.piece.append(f" {operator} ")
            elif char == "(" and self._function_head():
                index = self._function(index, self._function_head())
            elif char == "{" and _FUNCTION_KEYWORD.fullmatch("".join(self.piece).strip()):
                index = self._function_braces(index)
            elif char == ")" and not self.parens and self.in_case:
                self.piece, self.stdin_pipe = [], False  # ``pattern)`` of a case branch
                self.pattern_next = False
                index += 1
            elif char == "|" and pair != "||" and self._in_pattern():
                self.piece.append(char)  # ``a|b)``: alternatives of a case pattern
                index += 1
            elif pair == ";;" and self.in_case:
                self._end_command(False)
                self.pattern_next = True
                index += 3 if text.startswith(";;&", index) else 2
            elif char in ";&|()\n":
                self.parens += (char == "(") - (char == ")" and self.parens > 0)
                piped = char == "|" and pair != "||"
                self._end_command(piped)
                index += 2 if pair in ("&&", "||", "|&") else 1
                if char == "\n" and self.heredocs:
                    index = self._heredoc_bodies(index)
            else:
                self.piece.append(char)
                index += 1
        self._end_command(False)
        if self.heredocs:
            self._heredoc_bodies(len(text))
        return [self._with_bodies(command) for command in self.commands]

    def _in_pattern(self) -> bool:
        return (self.in_case > 0 and self.pattern_next) or bool(
            _CASE_HEAD.match("".join(self.piece))
        )

    def _at_word_start(self, index: int) -> bool:
        return index == 0 or (self.text[index - 1] in _WORD_START and not self._in_redirect())

    def _in_redirect(self) -> bool:
        return (
            bool(self.piece)
            and self.piece[-1].endswith(" ")
            and self.piece[-1].strip() in REDIRECTIONS
        )

    def _double_quoted(self, start: int) -> int:
        text, index = self.text, start + 1
        self.piece.append('"')
        while index < len(text) and text[index] != '"':
            pair = text[index : index + 2]
            if pair == "\\\n":
                index += 2
            elif pair == "\\$":
                self.piece.append(LITERAL_DOLLAR)
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
        """Parse the substitution at ``start``, record it, return the index after it."""
        if self.text[start] == "`":
            kind = "`"
            inner, after = self._backquoted(start)
        elif self.text.startswith("$((", start):
            kind = "$(("  # arithmetic: only its own substitutions run
            end = self._matching(start + 1, "(", ")")
            inner, after = self.text[start + 3 : end - 1], end + 1
        else:
            kind = self.text[start : start + 2]
            opener = self.text[start + 1]
            end = self._matching(start + 1, opener, "}" if opener == "{" else ")")
            inner, after = self.text[start + 2 : end], end + 1
        self.piece.append(self._register(kind, inner))
        return after

    def _register(self, kind: str, inner: str) -> str:
        if kind in ("${", "$(("):
            nested = _Scanner(inner, self.depth + 1, self.script).expansions_only()
        else:
            nested = parse_script(inner, self.depth + 1, self._sibling()).commands
            nested = [replace(command, substituted=True) for command in nested]
        self.commands.extend(nested)
        self.script.substitutions.append(Substitution(kind, inner, tuple(nested)))
        opener = PARAM_OPEN if kind == "${" else SUB_OPEN
        return f"${opener}{len(self.script.substitutions) - 1}{CLOSE}"

    def expansions_only(self) -> list[Command]:
        """The commands of the substitutions in text that is otherwise data (``${...}``, bodies)."""
        text, index = self.text, 0
        while index < len(text):
            pair = text[index : index + 2]
            if text[index] == "\\":
                index += 2
            elif pair in ("$(", "${") or text[index] == "`":
                index = self._substitution(index)
            else:
                index += 1
        return self.commands

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

    # --- here-documents ----------------------------------------------------------------

    def _heredoc(self, index: int, operator: str) -> int:
        """Read the delimiter after ``<<``; the body is read at the end of the line."""
        delimiter, quoted, index = heredoc_delimiter(self.text, index, operator)
        number = len(self.heredocs) + len(self.bodies)
        self.heredocs.append((number, delimiter, operator == "<<-", quoted))
        self.piece.append(f" {operator} {HEREDOC_MARK}{number} ")
        return index

    def _heredoc_bodies(self, index: int) -> int:
        """Read the pending here-document bodies from ``index`` (the start of a line)."""
        delimiters = [(delimiter, strip_tabs) for _, delimiter, strip_tabs, _ in self.heredocs]
        bodies, index = heredoc_bodies(self.text, index, delimiters)
        for (number, _, _, quoted), text in zip(self.heredocs, bodies, strict=True):
            if not quoted:  # bash expands $(...) and `...` in the body: they run
                self.commands.extend(_Scanner(text, self.depth + 1, self.script).expansions_only())
            self.bodies[f"{HEREDOC_MARK}{number}"] = text
        self.heredocs = []
        return index

    def _with_bodies(self, command: Command) -> Command:
        if not any(target in self.bodies for _, target in command.redirects):
            return command
        redirects = tuple((op, self.bodies.get(target, target)) for op, target in command.redirects)
        return replace(command, redirects=redirects)

    # --- function definitions ----------------------------------------------------------

    def _function_head(self) -> str | None:
        """The name when the text so far and a following ``()`` define a function."""
        match = _FUNCTION_NAME_ONLY.fullmatch("".join(self.piece).strip())
        return match.group(1) if match else None

    def _function(self, index: int, name: str | None) -> int:
        close = self.text.find(")", index)
        if name is None or close < 0 or self.text[index + 1 : close].strip():
            self._end_command(False)  # not ``name()``: an ordinary subshell
            return index + 1
        self.piece = []
        body = close + 1
        while body < len(self.text) and self.text[body] in " \t\n":
            body += 1
        if body < len(self.text) and self.text[body] in "{(":
            return self._function_body(body, name)
        self.script.functions.add(name)
        return body

    def _function_braces(self, index: int) -> int:
        match = _FUNCTION_KEYWORD.fullmatch("".join(self.piece).strip())
        assert match is not None
        self.piece = []
        return self._function_body(index, match.group(1))

    def _function_body(self, start: int, name: str) -> int:
        opener = self.text[start]
        end = self._matching(start, opener, "}" if opener == "{" else ")")
        self.script.functions.add(name)
        body = parse_script(self.text[start + 1 : end], self.depth + 1, self._sibling()).commands
        if any(command.words[:1] == (name,) or name in command.words for command in body):
            self.script.recursive_functions.add(name)
        self.commands.extend(body)
        return end + 1

    def _sibling(self) -> Script:
        """A script for nested text that shares this one's substitutions and functions."""
        return Script(
            substitutions=self.script.substitutions,
            functions=self.script.functions,
            recursive_functions=self.script.recursive_functions,
        )

    # --- commands ----------------------------------------------------------------------

    def _end_command(self, piped: bool) -> None:
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
        head = next((word for word in argv if word not in ("!", "{", "do", "then", "else")), "")
        self.in_case += (head == "case") - (head == "esac" and self.in_case > 0)
        if argv or redirects:
            self.commands.append(
                Command(
                    tuple(argv), tuple(redirects), stdin_pipe=self.stdin_pipe, stdout_pipe=piped
                )
            )
            self.stdin_pipe = piped
        # An empty piece (``a | (b)``, ``a |`` then a newline) keeps the pipe for what follows.
