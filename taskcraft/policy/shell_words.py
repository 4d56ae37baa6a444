"""Reading words: which program a name means, and what an expansion in a word may become.

Program names are compared by their *skeleton*: the base name, NFKC-normalised,
lower-cased, with invisible characters dropped and Cyrillic or Greek look-alikes mapped
to Latin (full-width ``rm``, ``r\u200bm`` and ``rм`` are all ``rm``). A skeleton is only ever used
to find *more* danger; a read-only program must be named exactly.

Expansions are evaluated from what the command line itself says (``Bindings``):
variables it assigns, ``for`` loop words, substitutions whose output is known to be
names inside the workspace or harmless text, and a few variables whose meaning does not
depend on the worker (``$PWD`` is the workspace, ``$HOME`` a home directory, ``$?`` a
number). Anything else is unknown, and an unknown value fails closed wherever it could
name a file or a program.
"""

from __future__ import annotations

import itertools
import posixpath
import re
from dataclasses import dataclass, field

from taskcraft.policy import lookalikes
from taskcraft.policy.shell_syntax import LITERAL_DOLLAR, PLACEHOLDER, Script

_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!_-])")
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\[[^]]*\])?\+?=(.*)", re.DOTALL)
_SECRET_NAME = re.compile(
    r"(TOKEN|SECRET|PASSW|PASSWD|PWD_|_PASS$|^PASS|API_?KEY|ACCESS_?KEY|PRIVATE|CREDENTIAL|"
    r"AUTH|SESSION|COOKIE|_KEY$|^KEY$)"
)
# Neutral stand-ins for values that are text or names inside the workspace.
TEXT, NAME = "t", "f"


def _words(text: str) -> list[str]:
    return text.split()  # a call, so the linter keeps word lists as readable strings


_KNOWN = {
    "PWD": ".",
    "HOME": "~",
    "TMPDIR": "/tmp",
    **dict.fromkeys(
        _words(
            """USER LOGNAME HOSTNAME SHELL LANG LANGUAGE LC_ALL LC_CTYPE TERM UID EUID PPID
            BASHPID RANDOM SRANDOM SECONDS LINENO BASH_VERSION BASH HOSTTYPE OSTYPE MACHTYPE
            COLUMNS LINES SHLVL EPOCHSECONDS EPOCHREALTIME PATH IFS OPTIND OPTARG REPLY
            PIPESTATUS FUNCNAME ? # $ ! - _ @ * 0 1 2 3 4 5 6 7 8 9"""
        ),
        TEXT,
    ),
}
MAX_VALUES = 64


def skeleton(word: str) -> str:
    """The program a word names, for recognising danger (see the module doc)."""
    return lookalikes.skeleton(posixpath.basename(literal(word))).lower()


def flag(word: str) -> str:
    """An option with look-alike dashes (``—rf``) written with ASCII ones, for danger checks."""
    return lookalikes.skeleton(word)


def literal(word: str) -> str:
    """``word`` with quoted dollars written as ``$`` again: the text a program receives."""
    return word.replace(LITERAL_DOLLAR, "$")


def is_secret_variable(name: str) -> bool:
    return bool(_SECRET_NAME.search(name.upper()))


def assignment(word: str) -> tuple[str, str] | None:
    match = _ASSIGNMENT.fullmatch(word)
    return (match.group(1), match.group(3)) if match else None


def has_expansion(word: str) -> bool:
    return bool(_VARIABLE.search(word) or PLACEHOLDER.search(word) or "`" in word)


def variables(word: str, script: Script) -> list[str]:
    """Names of the variables ``word`` expands, also inside ``${...}``."""
    names = [m.group(1) for m in _VARIABLE.finditer(word)]
    for sub in script.substitution(word):
        found = re.match(r"[#!]?([A-Za-z_][A-Za-z0-9_]*)", sub.text) if sub.kind == "${" else None
        if found:
            names.append(found.group(1))
    return names


@dataclass
class Bindings:
    """What each variable of a command line may hold: values, or None when unknown."""

    script: Script
    values: dict[str, list[str] | None] = field(default_factory=dict)
    # Substitution index -> "names", "text", or a list of literal outputs; absent: unknown.
    outputs: dict[int, str | list[str]] = field(default_factory=dict)

    def bind(self, name: str, value: list[str] | None) -> None:
        if name in self.values and self.values[name] is None:
            return
        if value is None:
            self.values[name] = None
        else:
            self.values[name] = list(dict.fromkeys((self.values.get(name) or []) + value))

    def expand(self, word: str, depth: int = 0) -> list[str] | None:
        """Every string ``word`` may become, or None when that cannot be known."""
        if depth > 4:
            return None
        pieces: list[list[str]] = []
        position = 0
        for match in _TOKENS.finditer(word):
            pieces.append([word[position : match.start()]])
            options = self._token(match, depth)
            if options is None:
                return None
            pieces.append(options)
            position = match.end()
        pieces.append([word[position:]])
        total = 1
        for options in pieces:
            total *= max(len(options), 1)
            if total > MAX_VALUES:
                return None
        return ["".join(combo) for combo in itertools.product(*pieces)]

    def _token(self, match: re.Match[str], depth: int) -> list[str] | None:
        if match.group("var"):
            return self._variable(match.group("var"), depth)
        index = int(match.group("index"))
        sub = self.script.substitutions[index]
        if sub.kind == "${":
            return self._parameter(sub.text, depth)
        if sub.kind == "$((":
            return [TEXT]
        if sub.kind in ("<(", ">("):
            return ["/dev/fd/63"]
        output = self.outputs.get(index)
        if output == "names":
            return [NAME]
        if output == "text":
            return [TEXT]
        return output if isinstance(output, list) else None

    def _variable(self, name: str, depth: int) -> list[str] | None:
        if name in self.values:
            found = self.values[name]
            if found is None:
                return None
            expanded: list[str] = []
            for value in found:
                more = self.expand(value, depth + 1)
                if more is None:
                    return None
                expanded += more
            return expanded or [""]
        known = _KNOWN.get(name)
        return None if known is None else [known]

    def _parameter(self, text: str, depth: int) -> list[str] | None:
        if text.startswith("#"):
            return [TEXT]  # a length
        match = re.fullmatch(
            r"([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!_-])(?::?([-=+?])(.*))?", text, re.DOTALL
        )
        if match is None:
            return None  # indirection, pattern removal, slicing: too clever to follow
        name, operator, default = match.groups()
        values = self._variable(name, depth)
        if operator in ("-", "=") and default is not None:
            extra = self.expand(default, depth + 1)
            return None if values is None or extra is None else values + extra
        if operator == "+":
            return self.expand(default or "", depth + 1)
        return values


_TOKENS = re.compile(
    r"\$(?:(?P<var>[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!_-])|[\ue001\ue003](?P<index>\d+)\ue002)"
)
