"""What a shell command line would do: destroy something, run what it downloads, or only read.

Each classifier parses the line (``shell_syntax``) into the simple commands bash would
run, including those inside substitutions and inside ``sh -c``/``eval`` strings, and
looks at each command through every program it may start: ``sudo -u x env A=1 rm -rf /``
is also read as ``env A=1 rm -rf /`` and ``rm -rf /`` (see ``_views``). Program names are
compared by lower-cased base name (``/bin/RM`` is ``rm``), so renaming tricks only ever
make a command look *more* dangerous. Anything that cannot be analysed (bad quoting,
a program name made of a variable or a glob, nesting too deep, text too long) is
destructive for ``is_destructive`` and ``pipes_download_to_shell`` and not read-only for
``is_read_only``: every classifier fails closed.

What this does not do is analyse inline code of interpreters (``python -c``) or scripts
on disk: such commands are never read-only, so the policy sends them to a person.
"""

from __future__ import annotations

import itertools
import posixpath
import re
from typing import NamedTuple

from taskcraft.policy import shell_args
from taskcraft.policy import shell_programs as known
from taskcraft.policy.finding import Finding
from taskcraft.policy.shell_syntax import Command, ShellSyntaxError, parse

MAX_COMMAND_CHARS = 16_384
MAX_VIEWS = 256  # programs one simple command may start; more is refused, not analysed
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")


class _Step(NamedTuple):
    command: Command
    views: list[tuple[str, ...]]  # the argv, and the argv of every program it may start


def program_name(word: str) -> str:
    return posixpath.basename(word).lower()


def is_destructive(command: str) -> Finding:
    """Deletes trees, destroys disks, changes the system, escalates, or writes outside."""
    try:
        for step in _steps(command):
            why = _destructive_step(step)
            if why:
                return Finding(True, why)
    except ShellSyntaxError as error:
        return Finding(True, f"cannot be analysed ({error})")
    return Finding(False, "no destructive command found")


def pipes_download_to_shell(command: str) -> Finding:
    """Downloads something and later runs a shell, an interpreter or a file in the same line."""
    try:
        steps = _steps(command)
    except ShellSyntaxError as error:
        return Finding(True, f"cannot be analysed ({error})")
    downloader: str | None = None
    for step in steps:
        names = [program_name(view[0]) for view in step.views]
        if downloader is not None:
            for view, name in zip(step.views, names, strict=True):
                if known.is_shell(name) or known.is_interpreter(name) or "/" in view[0]:
                    return Finding(True, f"runs {view[0]!r} after downloading with {downloader}")
        downloader = downloader or next((n for n in names if n in known.DOWNLOADERS), None)
    return Finding(False, "nothing downloaded is run")


def is_read_only(command: str) -> Finding:
    """Only known read-only programs, reading inside the workspace, writing nothing."""
    try:
        commands = _parse(command)
    except ShellSyntaxError as error:
        return Finding(False, f"cannot be analysed ({error})")
    programs: list[str] = []
    for each in commands:
        why = _why_not_read_only(each)
        if why:
            return Finding(False, why)
        programs.extend(each.words[:1])
    return Finding(True, "only reads: " + ", ".join(dict.fromkeys(programs)))


def _parse(text: str, depth: int = 0) -> list[Command]:
    if len(text) > MAX_COMMAND_CHARS:
        raise ShellSyntaxError(f"longer than {MAX_COMMAND_CHARS} characters")
    return parse(text, depth)


def _steps(text: str, depth: int = 0) -> list[_Step]:
    """Commands in the order they run, each followed by those of the scripts it runs inline."""
    steps: list[_Step] = []
    for command in _parse(text, depth):
        views = _views(_program_words(command.words))
        steps.append(_Step(command, views))
        for view in views:
            for script in _inline_scripts(view):
                steps.extend(_steps(script, depth + 1))
    return steps


def _program_words(words: tuple[str, ...]) -> tuple[str, ...]:
    """The words from the program name on: keywords and variable assignments removed."""
    start = 0
    while start < len(words) and words[start] in known.LEADING_KEYWORDS:
        start += 1
    if start < len(words) and words[start] in known.CONTROL_HEADERS:
        return ()
    while start < len(words) and _ASSIGNMENT.match(words[start]):
        start += 1
    return words[start:]


def _views(words: tuple[str, ...]) -> list[tuple[str, ...]]:
    """``words``, and every argv a wrapper (sudo, env, xargs...) or ``find -exec`` may run."""
    if not words:
        return []
    spans = [(0, len(words))]
    queued = set(spans)
    for start, end in spans:  # grows while we walk it
        name = program_name(words[start])
        found: list[tuple[int, int]] = []
        if name in known.WRAPPERS:
            found = [(i, end) for i in range(start + 1, end) if not words[i].startswith("-")]
        elif name == "find":
            for i in range(start + 1, end):
                if words[i] in known.FIND_EXEC_ACTIONS:
                    stop = next((j for j in range(i + 1, end) if words[j] in (";", "+")), end)
                    found.append((i + 1, stop))
        for span in found:
            if span[0] < span[1] and span not in queued:
                queued.add(span)
                spans.append(span)
        if len(spans) > MAX_VIEWS:
            raise ShellSyntaxError(f"more than {MAX_VIEWS} possible programs in one command")
    return [words[start:end] for start, end in spans]


def _inline_scripts(view: tuple[str, ...]) -> list[str]:
    name, arguments = program_name(view[0]), view[1:]
    if name in known.SHELLS_WITH_COMMAND_OPTION:
        flags = [i for i, word in enumerate(arguments) if shell_args.is_short_flag_with(word, "c")]
        if flags:
            return [word for word in arguments[flags[0] + 1 :] if not word.startswith("-")]
    if name in known.RUN_ARGUMENTS_AS_COMMAND:
        return [" ".join(word for word in arguments if not word.startswith("-"))]
    return []


def _destructive_step(step: _Step) -> str | None:
    for operator, target in step.command.redirects:
        if shell_args.writes_file(operator, target) and shell_args.outside(target):
            return f"redirects output to {target!r}, outside the workspace"
    for view in step.views:
        why = _destructive_program(view)
        if why:
            return why
    return None


def _destructive_program(view: tuple[str, ...]) -> str | None:
    raw, name = view[0], program_name(view[0])
    if raw not in ("[", "{}") and any(char in raw for char in "$`*?[{"):  # {}: xargs -I{}
        return f"cannot tell which program {raw!r} runs"
    if name in known.PRIVILEGE_ESCALATION:
        return f"{name} runs commands with other privileges"
    if name in known.DISK_DESTROYERS or name.startswith("mkfs"):
        return f"{name} destroys disks or data"
    if name in known.SYSTEM_CHANGERS:
        return f"{name} changes the system outside the workspace"
    if name == "rm":
        return _destructive_rm(view)
    if name == "find":
        return _destructive_find(view)
    if name == "xargs" and any(program_name(word) in known.DELETERS for word in view[1:]):
        return "xargs feeds files nobody has seen to a deleting program"
    operands = shell_args.operands(view)
    touched: list[str] = []
    if name in known.CHANGES_EVERY_OPERAND or (
        name in known.IN_PLACE_EDITORS and any(shell_args.edits_in_place(word) for word in view[1:])
    ):
        touched = operands
    elif name in known.COPIERS:
        touched = operands[-1:]
    if name == "dd":
        touched = [word[3:] for word in view[1:] if word.lower().startswith("of=")]
    touched += shell_args.option_values(view, known.DESTINATION_OPTIONS.get(name, ()))
    outside = next((path for path in touched if shell_args.outside(path)), None)
    return None if outside is None else f"{name} changes {outside!r}, outside the workspace"


def _destructive_rm(view: tuple[str, ...]) -> str | None:
    recursive = no_preserve_root = False
    for word in view[1:]:
        if word == "--":
            break
        if word.startswith("--"):
            option = word[2:].split("=", 1)[0].lower()
            recursive = recursive or (bool(option) and "recursive".startswith(option))
            no_preserve_root = no_preserve_root or (
                bool(option) and "no-preserve-root".startswith(option)
            )
        elif word.startswith("-"):
            recursive = recursive or "r" in word[1:].lower()
    if no_preserve_root:
        return "rm --no-preserve-root"
    if recursive:
        return "rm with a recursive flag deletes whole trees"
    outside = next((path for path in shell_args.operands(view) if shell_args.outside(path)), None)
    return None if outside is None else f"rm deletes {outside!r}, outside the workspace"


def _destructive_find(view: tuple[str, ...]) -> str | None:
    if "-delete" in view:
        return "find -delete deletes every file it finds"
    for action, program in itertools.pairwise(view):
        if action in known.FIND_EXEC_ACTIONS and program_name(program) in known.DELETERS:
            return f"find {action} {program} deletes every file it finds"
    return None


def _why_not_read_only(command: Command) -> str | None:
    for operator, target in command.redirects:
        if shell_args.writes_file(operator, target):
            return f"redirects output into {target!r}"
        if operator == "<" and shell_args.outside(target):
            return f"reads {target!r}, outside the workspace"
    words = command.words
    while words and words[0] in known.LEADING_KEYWORDS:
        words = words[1:]
    if not words or words[0] in known.CONTROL_HEADERS:
        return None
    name = words[0]
    if _ASSIGNMENT.match(name):
        return "sets environment variables for the program"
    if name not in known.READ_ONLY_PROGRAMS:
        return f"{name!r} is not a known read-only program"
    for word in words[1:]:
        if shell_args.forbidden_option(word, known.READ_ONLY_PROGRAMS[name], exact=name == "find"):
            return f"{name} {word} may write or run programs"
        if "$" in word:
            return f"{word!r} expands a variable or a command"
        if any(shell_args.outside(candidate) for candidate in shell_args.path_candidates(word)):
            return f"{name} reads {word!r}, outside the workspace"
    return None
