"""The commands a line runs, each with every program it may start (its *views*).

``sudo -u x env A=1 rm -rf /`` is also read as ``env A=1 rm -rf /`` and ``rm -rf /``:
a wrapper (sudo, env, nice, timeout, xargs, busybox...) may run any later argument that
is not an option, and ``find -exec`` runs what follows it. Command lines handed to a
shell (``sh -c``, ``eval``, ``ssh host cmd``, ``alias x=cmd``, a here-document fed to a
shell) are parsed too and their commands follow, marked with their depth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from taskcraft.policy import shell_args
from taskcraft.policy import shell_programs as known
from taskcraft.policy.shell_syntax import (
    MAX_DEPTH,
    Command,
    Script,
    ShellSyntaxError,
    parse_script,
)
from taskcraft.policy.shell_words import assignment, literal, skeleton

MAX_VIEWS = 256  # programs one simple command may start; more is refused, not analysed
_SSH_VALUES = "bcDEeFIiJLlmOopQRSWw"


@dataclass(frozen=True)
class Step:
    command: Command
    words: tuple[str, ...]  # from the program name on: keywords and assignments removed
    assignments: tuple[tuple[str, str], ...]  # NAME=VALUE words before the program
    views: tuple[tuple[str, ...], ...]  # the argv, and the argv of every program it may start
    depth: int  # 0: the line itself; more: inside ``sh -c`` and the like
    script: Script  # where its placeholders are recorded


def program_words(words: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The words from the program name on, and the variable assignments before it."""
    start = 0
    while start < len(words) and words[start] in known.LEADING_KEYWORDS:
        start += 1
    if start < len(words) and words[start] in known.CONTROL_HEADERS:
        return (), ()
    assignments: list[tuple[str, str]] = []
    while start < len(words):
        pair = assignment(words[start])
        if pair is None:
            break
        assignments.append(pair)
        start += 1
    return words[start:], tuple(assignments)


def steps(script: Script, depth: int = 0) -> list[Step]:
    """Commands in the order they run, each followed by those of the scripts it runs inline."""
    found: list[Step] = []
    for command in script.commands:
        words, assignments = program_words(command.words)
        views = tuple(views_of(words))
        found.append(Step(command, words, assignments, views, depth, script))
        for text in inline_scripts(command, views):
            found.extend(steps(parse_inline(text, script, depth + 1), depth + 1))
    return found


def parse_inline(text: str, script: Script, depth: int) -> Script:
    if depth > MAX_DEPTH:
        raise ShellSyntaxError("commands nested too deeply to analyse")
    sibling = Script(
        substitutions=script.substitutions,
        functions=script.functions,
        recursive_functions=script.recursive_functions,
    )
    return parse_script(text, depth, sibling)


def views_of(words: tuple[str, ...]) -> list[tuple[str, ...]]:
    """``words``, and every argv a wrapper or ``find -exec`` may run."""
    if not words:
        return []
    spans = [(0, len(words))]
    queued = set(spans)
    for start, end in spans:  # grows while we walk it
        name = skeleton(words[start])
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


def inline_scripts(command: Command, views: tuple[tuple[str, ...], ...]) -> list[str]:
    """Command lines this command hands to a shell: ``sh -c X``, ``eval X``, here-documents."""
    scripts: list[str] = []
    for view in views:
        scripts += _inline(view)
        if known.is_shell(skeleton(view[0])) and skeleton(view[0]) not in ("eval", "source", "."):
            scripts += [target for op, target in command.redirects if op in ("<<", "<<-", "<<<")]
    return scripts


def _inline(view: tuple[str, ...]) -> list[str]:
    name, arguments = skeleton(view[0]), tuple(literal(word) for word in view[1:])
    if name in known.SHELLS_WITH_COMMAND_OPTION or name in ("flock", "script"):
        flags = [i for i, word in enumerate(arguments) if shell_args.is_short_flag_with(word, "c")]
        flags += [i for i, word in enumerate(arguments) if word == "--command"]
        if flags:
            return [word for word in arguments[min(flags) + 1 :] if not word.startswith("-")]
    if name in known.RUN_ARGUMENTS_AS_COMMAND:
        return [" ".join(word for word in arguments if not word.startswith("-"))]
    if name == "alias":
        return [word.split("=", 1)[1] for word in arguments if "=" in word]
    if name == "env":
        return [
            v for i, w in enumerate(arguments) for v in _split_string(w, arguments[i + 1 : i + 2])
        ]
    if name == "git":
        return _git_config_commands(arguments)
    if name in known.EDITORS:
        return [text for word in arguments for text in _editor_command(word)]
    if name in ("ssh", "dbclient"):
        remote = ssh_remote_command(tuple(literal(word) for word in view))
        return [remote] if remote else []
    return []


def ssh_remote_command(view: tuple[str, ...]) -> str:
    """The command line ``ssh [options] host command...`` runs on the remote host."""
    index, host_seen = 1, False
    while index < len(view):
        word = view[index]
        if not host_seen and word.startswith("-") and len(word) > 1:
            letter = word[-1]
            index += 2 if letter in _SSH_VALUES and len(word) == 2 else 1
            continue
        if not host_seen:
            host_seen = True
            index += 1
            continue
        return " ".join(view[index:])
    return ""


def is_remote(word: str) -> bool:
    """``host:path``, ``user@host:path``, ``rsync://``, ``s3://`` and the like."""
    return bool(re.match(r"^([\w.+-]+@)?[\w.-]+:|^[a-z0-9+]+://", word)) and not word.startswith(
        ("./", "/")
    )


# git configuration whose value is a command line git runs.
_GIT_COMMAND_KEYS = re.compile(
    r"^(core\.(sshcommand|pager|editor|fsmonitor|askpass|hookspath)|diff\..*\.(command|textconv)|"
    r"diff\.external|alias\..*|credential\..*helper|sequence\.editor|gpg\..*program|"
    r"filter\..*\.(clean|smudge|process)|uploadpack\.packobjectshook|protocol\..*)=",
    re.IGNORECASE,
)


def _git_config_commands(arguments: tuple[str, ...]) -> list[str]:
    commands: list[str] = []
    for index, word in enumerate(arguments[:-1]):
        setting = arguments[index + 1]
        if word == "-c" and _GIT_COMMAND_KEYS.match(setting):
            commands.append(setting.split("=", 1)[1].lstrip("!"))
    return commands


def _split_string(word: str, following: tuple[str, ...]) -> list[str]:
    """``env -S 'cmd args'`` (or ``--split-string=...``) runs the string as a command."""
    if word in ("-S", "--split-string"):
        return list(following)
    if word.startswith("--split-string="):
        return [word.split("=", 1)[1]]
    if word.startswith("-S") and len(word) > 2:
        return [word[2:]]
    return []


def _editor_command(word: str) -> list[str]:
    """``vim -c ':!cmd'``, ``vim '+!cmd'``, ``less '+!cmd'``: the shell command inside."""
    text = word.lstrip("+").lstrip(":").strip()
    return [text[1:]] if text.startswith("!") else []
