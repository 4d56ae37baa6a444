"""Is a parsed command line read-only: known readers, reading inside the workspace, writing nothing?

Each simple command (substitutions and function bodies included) must be a program from
``shell_readers`` used without the options that make it write or run something, with
every path it reads inside the workspace and not a file that usually holds secrets.
Expansions are judged by what they can become (``shell_words.Bindings``): ``echo $HOME``
prints text, ``ls "$PWD"`` lists the workspace, ``wc -l $(ls *.md)`` counts files a
read-only listing named; an expansion nobody can follow, where it could name a file, an
option or a program, is not read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

from taskcraft.policy import shell_args
from taskcraft.policy import shell_readers as readers
from taskcraft.policy.secret_paths import secret_location
from taskcraft.policy.shell_programs import CONTROL_HEADERS, ENVIRONMENT_PRINTERS, LEADING_KEYWORDS
from taskcraft.policy.shell_syntax import LITERAL_DOLLAR, Command
from taskcraft.policy.shell_words import (
    Bindings,
    assignment,
    has_expansion,
    is_secret_variable,
    variables,
)

_TEXT_ONLY = shell_args.ArgSpec(all_text=True)
_BUILTINS = frozenset({"exit", "return", "shift", "break", "continue", "wait", "unset", "read", "getopts", "mapfile", "readarray"})  # fmt: skip


@dataclass
class Reading:
    """What the judge of one command needs to know about the rest of the line."""

    root: str | None
    bindings: Bindings
    command: Command
    stdin: str | None = None  # what a pipe feeds this command: "names", "text" or None


def judge(command: Command, reading: Reading) -> str | None:
    for operator, target in command.redirects:
        if shell_args.writes_file(operator, target):
            return f"redirects output into {target!r}"
        if operator in ("<", "<>"):
            why = check_path(target, reading, "reads")
            if why:
                return why
    words = command.words
    while words and words[0] in LEADING_KEYWORDS:
        words = words[1:]
    if not words or words[0] in CONTROL_HEADERS:
        return None
    prefix: list[str] = []
    while words and assignment(words[0]):
        pair = assignment(words[0])
        assert pair is not None
        prefix.append(pair[0])
        words = words[1:]
    if prefix and words and not all(name in readers.SAFE_VARIABLES for name in prefix):
        return "sets environment variables for the program"
    if prefix and not words:
        dangerous = [name for name in prefix if name in readers.DANGEROUS_VARIABLES]
        return f"sets {dangerous[0]}, which changes what programs run" if dangerous else None
    return judge_words(tuple(words), reading)


def judge_words(words: tuple[str, ...], reading: Reading) -> str | None:
    name = words[0]
    if has_expansion(name) or LITERAL_DOLLAR in name:
        return (
            f"{reading.bindings.script.display(name)!r} expands to a program name nobody can tell"
        )
    for word in words[1:]:
        for variable in variables(word, reading.bindings.script):
            if is_secret_variable(variable) and variable not in reading.bindings.values:
                return f"{word!r} expands a variable that usually holds a secret"
    if len(words) == 2 and words[1] in readers.VERSION_FLAGS and name in readers.VERSIONED:
        return None
    # Imported here: the judges of special programs call back into judge_words.
    from taskcraft.policy.shell_read_only_programs import SPECIAL

    special = SPECIAL.get(name)
    if special is not None:
        return special(words, reading)
    spec = readers.READ_ONLY.get(name)
    if spec is None:
        if name in ENVIRONMENT_PRINTERS:
            return f"{name} prints the environment"
        return f"{name!r} is not a known read-only program"
    return plain(words, spec, reading)


def plain(words: tuple[str, ...], spec: shell_args.ArgSpec, reading: Reading) -> str | None:
    name = words[0]
    for word in words[1:]:
        if shell_args.forbidden_option(word, spec.forbidden, exact=False):
            return f"{name} {word} may write or run programs"
    found = shell_args.roles(words, spec)
    operands = [role for role in found if role.operand]
    if spec.max_operands is not None and len(operands) > spec.max_operands:
        return f"{name} writes its last operand"
    for role in found:
        if role.role == shell_args.PATH:
            why = check_path(role.word, reading, f"{name} reads")
            if why:
                return why
    return None


def check_path(word: str, reading: Reading, action: str) -> str | None:
    if word == "{}":
        return None
    values = reading.bindings.expand(word)
    shown = reading.bindings.script.display(word)
    if values is None:
        return f"{shown!r} expands to something that may name a file outside the workspace"
    for value in values:
        if has_expansion(word) and value.startswith("-"):
            return f"{shown!r} expands to an option"
        if value in ("-", "/dev/stdin", "/dev/fd/63") or value in readers.SYSTEM_INFO:
            continue
        if shell_args.outside(value, reading.root):
            return f"{action} {shown!r}, outside the workspace"
        for alternative in shell_args.expand_braces(value) or [value]:
            kind = secret_location(alternative)
            if kind:
                return f"{action} {shown!r}, which usually holds {kind}"
    return None
