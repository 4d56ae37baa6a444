"""What the shell parser produces: simple commands, substitutions, and the script holding them.

Kept apart from the scanner (``shell_syntax``) so the analysis can import the shapes
without the parsing machinery.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_DEPTH = 8  # nested substitutions and ``sh -c`` levels before we give up (fail closed)
REDIRECTIONS = ("&>>", "&>", "<<<", "<<-", "<<", "<>", "<&", ">>", ">|", ">&", "<", ">")
WRITE_REDIRECTIONS = frozenset({"&>>", "&>", "<>", ">>", ">|", ">&", ">"})
HEREDOCS = frozenset({"<<", "<<-"})
# Private-use characters the scanner writes into words; text that already holds one is
# refused, so a placeholder cannot be forged.
LITERAL_DOLLAR = "\ue000"
SUB_OPEN, PARAM_OPEN, CLOSE, HEREDOC_MARK = "\ue001", "\ue003", "\ue002", "\ue004"
RESERVED = frozenset(LITERAL_DOLLAR + SUB_OPEN + PARAM_OPEN + CLOSE + HEREDOC_MARK)
PLACEHOLDER = re.compile(r"\$([\ue001\ue003])(\d+)\ue002")
SUBSTITUTION = "$(...)"  # how a substitution is shown


class ShellSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]  # argv as bash would see it, redirections removed
    redirects: tuple[tuple[str, str], ...]  # (operator, target); a here-doc's target is its body
    stdin_pipe: bool = False  # reads the previous command's output through ``|``
    stdout_pipe: bool = False  # writes into the next command through ``|``
    substituted: bool = False  # runs inside $(...), `...`, <(...) or >(...)


@dataclass(frozen=True)
class Substitution:
    kind: str  # "$(", "`", "<(", ">(", "${" or "$((" (arithmetic)
    text: str  # what was inside
    commands: tuple[Command, ...]  # the commands it runs


@dataclass
class Script:
    commands: list[Command] = field(default_factory=list)
    substitutions: list[Substitution] = field(default_factory=list)
    functions: set[str] = field(default_factory=set)
    recursive_functions: set[str] = field(default_factory=set)

    def substitution(self, word: str) -> list[Substitution]:
        """The substitutions whose placeholders appear in ``word``."""
        return [self.substitutions[int(m.group(2))] for m in PLACEHOLDER.finditer(word)]

    def display(self, word: str) -> str:
        """``word`` as the user wrote it, near enough: placeholders become their text."""

        def shown(match: re.Match[str]) -> str:
            sub = self.substitutions[int(match.group(2))]
            closer = {"`": "`", "${": "}", "$((": "))"}.get(sub.kind, ")")
            return f"{sub.kind}{sub.text}{closer}"

        return PLACEHOLDER.sub(shown, word).replace(LITERAL_DOLLAR, "$")
