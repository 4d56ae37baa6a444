"""A whole command line: what its variables and substitutions hold, and whether it only reads.

``bind`` works out, from the line alone, what each variable may hold (assignments,
``for`` loop words, ``read`` targets: unknown) and what each command substitution
prints: file names inside the workspace (``$(ls *.md)``, ``$(git ls-files)``), harmless
text (``$(date)``), a literal (``$(echo x)``), or nobody knows. ``line_is_read_only``
then judges every command (``shell_read_only``), telling xargs what its pipe carries.
"""

from __future__ import annotations

import posixpath
import re

from taskcraft.policy import shell_readers as readers
from taskcraft.policy.shell_programs import LEADING_KEYWORDS
from taskcraft.policy.shell_read_only import Reading, judge
from taskcraft.policy.shell_syntax import Command, Script
from taskcraft.policy.shell_words import TEXT, Bindings, assignment


def line_is_read_only(script: Script, bindings: Bindings, root: str | None) -> str | None:
    """Why the line is not read-only, or None when it is."""
    for index, command in enumerate(script.commands):
        stdin = _piped_class(script, index, bindings, root) if command.stdin_pipe else None
        why = judge(command, Reading(root, bindings, command, stdin))
        if why:
            return why
    return None


def _piped_class(script: Script, index: int, bindings: Bindings, root: str | None) -> str | None:
    """What the command before ``script.commands[index]`` in its pipeline writes."""
    command = script.commands[index]
    for earlier in range(index - 1, -1, -1):
        candidate = script.commands[earlier]
        if candidate.stdout_pipe and candidate.substituted == command.substituted:
            chain = [
                c for c in script.commands[: earlier + 1] if c.substituted == command.substituted
            ]
            found = output_class(chain, bindings, root)
            return found if isinstance(found, str) else None
    return None


def output_class(
    commands: list[Command], bindings: Bindings, root: str | None
) -> str | list[str] | None:
    """ "names", "text", literal outputs, or None, for the last pipeline of ``commands``."""
    if not commands:
        return None
    chain = [commands[-1]]
    while chain[0].stdin_pipe and len(chain) < len(commands):
        chain.insert(0, commands[-len(chain) - 1])
    for command in commands:
        if judge(command, Reading(root, bindings, command)):
            return None
    filters = chain[1:]
    if any(not c.words or c.words[0] not in readers.NAME_FILTERS for c in filters):
        return None
    words = chain[0].words
    if not words:
        return None
    name = words[0]
    if name in readers.NAME_PRODUCERS or _lists_names(words):
        return "names"
    if name in readers.TEXT_PRODUCERS or (
        name == "git"
        and len(words) > 1
        and words[1] in ("rev-parse", "describe", "rev-list", "log")
    ):
        return "text"
    if name == "printf" and not filters and len(words) > 1:
        values = [bindings.expand(word) for word in words[1:]]
        if any(v is None or len(v) != 1 for v in values):
            return None
        texts = [v[0] for v in values if v is not None]
        return _printf(texts[0], texts[1:])
    if name in ("echo", "basename", "dirname") and not filters:
        values = [bindings.expand(word) for word in words[1:] if not word.startswith("-")]
        if any(v is None or len(v) != 1 for v in values):
            return None
        texts = [v[0] for v in values if v is not None]
        if name == "echo":
            return [" ".join(texts)]
        function = posixpath.basename if name == "basename" else posixpath.dirname
        return [function(texts[0].rstrip("/")) or "."] if texts else None
    return None


def _lists_names(words: tuple[str, ...]) -> bool:
    name, rest = words[0], words[1:]
    if name == "git":
        return bool(rest) and (
            rest[0] == "ls-files" or (rest[0] == "diff" and "--name-only" in rest)
        )
    if name in ("grep", "egrep", "fgrep", "rg"):
        return any(
            w in ("-l", "-L", "--files-with-matches", "--files-without-match", "--files")
            or (w.startswith("-") and not w.startswith("--") and "l" in w)
            for w in rest
        )
    return False


def bind(script: Script, root: str | None) -> Bindings:
    """What the line's variables and substitutions may hold (see ``shell_words``)."""
    bindings = Bindings(script)
    for command in script.commands:
        words = command.words
        while words and words[0] in LEADING_KEYWORDS:
            words = words[1:]
        if len(words) >= 2 and words[0] in ("for", "select"):
            in_list = len(words) > 2 and words[2] == "in"
            bindings.bind(words[1], list(words[3:]) if in_list else [TEXT])
            continue
        while words and assignment(words[0]):
            pair = assignment(words[0])
            assert pair is not None
            bindings.bind(pair[0], [pair[1]])
            words = words[1:]
        if not words:
            continue
        if words[0] in ("export", "declare", "local", "readonly", "typeset"):
            for word in words[1:]:
                pair = assignment(word)
                if pair:
                    bindings.bind(pair[0], [pair[1]])
        elif words[0] in ("read", "mapfile", "readarray"):
            for word in words[1:]:
                if not word.startswith("-"):
                    bindings.bind(word, None)
        elif words[0] == "printf" and len(words) > 2 and words[1] == "-v":
            bindings.bind(words[2], None)
    for index, sub in enumerate(script.substitutions):
        if sub.kind in ("$(", "`"):
            found = output_class(list(sub.commands), bindings, root)
            if found is not None:
                bindings.outputs[index] = found
    return bindings


def _printf(template: str, arguments: list[str]) -> list[str] | None:
    """What ``printf`` prints for %s-style templates, or None for anything fancier."""
    pieces = re.split(r"(%[sdb])", template.replace("\\n", "\n"))
    if any("%" in piece for piece in pieces[::2]):
        return None
    given = iter(arguments)
    return ["".join(next(given, "") if n % 2 else piece for n, piece in enumerate(pieces))]
