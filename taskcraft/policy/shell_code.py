"""The program text an interpreter is given in a command, and what that text may do.

``python -c CODE`` is parsed (``python_code.python_facts``); awk and sed programs are
tokenised (``script_languages``); other interpreters' ``-e`` code is scanned for
danger only. Code fed to an interpreter through a here-document is read the same way.
"""

from __future__ import annotations

import re

from taskcraft.policy import shell_args
from taskcraft.policy import shell_programs as known
from taskcraft.policy.code_facts import CodeFacts
from taskcraft.policy.other_code import other_language_facts
from taskcraft.policy.python_code import python_facts
from taskcraft.policy.script_languages import Facts, awk_facts, sed_facts
from taskcraft.policy.shell_readers import AWK, AWK_NAMES, SED, SED_NAMES
from taskcraft.policy.shell_steps import Step
from taskcraft.policy.shell_words import literal, skeleton

# Per interpreter: option letters that introduce code, and letters that take a value (so
# the rest of the word is that value: ``perl -MIO::Socket`` is not ``-e``).
_OPTIONS: dict[str, tuple[str, str]] = {
    "python": ("c", "WXmQ"),
    "pypy": ("c", "WXmQ"),
    "perl": ("eE", "MmIxCdDl0i"),
    "ruby": ("e", "rICEKTWx"),
    "node": ("ep", "r"),
    "nodejs": ("ep", "r"),
    "bun": ("ep", "r"),
    "deno": ("", ""),
    "php": ("r", "cdfzt"),
    "lua": ("e", "lI"),
    "luajit": ("e", "lIjO"),
    "osascript": ("e", "l"),
    "rscript": ("e", ""),
    "julia": ("eE", "CJLpt"),
}
_DEFAULT_OPTIONS = ("ce", "")
_LONG_CODE_OPTIONS = ("--eval", "--print", "--command", "-Command", "-EncodedCommand", "-command")
_LISTENING_MODULES = ("http.server", "SimpleHTTPServer", "pyftpdlib", "smtpd", "CGIHTTPServer")


def code_argument(view: tuple[str, ...]) -> str | None:
    """The program text given on the command line (``-c``, ``-e``, ``--eval``...), if any."""
    name = skeleton(view[0])
    family = re.sub(r"[0-9.]+$", "", name)
    code_letters, value_letters = _OPTIONS.get(family, ("c" if known.is_shell(name) else "ce", ""))
    words = [literal(word) for word in view]
    for index, word in enumerate(words[1:], start=1):
        if word == "--":
            return None
        if word in _LONG_CODE_OPTIONS or word.split("=", 1)[0] in _LONG_CODE_OPTIONS:
            if "=" in word:
                return word.split("=", 1)[1]
            return words[index + 1] if index + 1 < len(words) else ""
        if word.startswith("-") and not word.startswith("--") and len(word) > 1:
            for position, letter in enumerate(word[1:], start=1):
                if letter in value_letters:
                    break  # the rest of the word is this option's value
                if letter in code_letters:
                    rest = word[position + 1 :]
                    if rest and not known.is_shell(name):
                        return rest  # perl -e'print 1'
                    return words[index + 1] if index + 1 < len(words) else ""
        elif not word.startswith("-"):
            return None  # a script operand comes first: later words are its arguments
    return None


def code_of(view: tuple[str, ...], step: Step) -> CodeFacts | None:
    """What the code this view runs may do, for interpreters we can read; None otherwise."""
    name = skeleton(view[0])
    if name in AWK_NAMES:
        return _from_facts(_program(view, AWK, awk_facts))
    if name in SED_NAMES:
        return _from_facts(_program(view, SED, sed_facts))
    if known.is_shell(name) or not known.is_interpreter(name):
        return None
    python = name.startswith(("python", "pypy"))
    module = _module(view) if python else None
    if module is not None:
        listens = module.startswith(_LISTENING_MODULES)
        return CodeFacts(
            listens=f"python -m {module} serves files to the network" if listens else None,
            not_read_only=f"runs module {module}",
        )
    code = code_argument(view)
    if code is None:
        bodies = [t for op, t in step.command.redirects if op in ("<<", "<<-", "<<<")]
        if not bodies or _has_operand(view):
            return None
        code = "\n".join(bodies)
    if "EncodedCommand" in " ".join(view) or (
        any(w.lower() in ("-enc", "-e", "-ec") for w in view[1:])
        and name.startswith(("pwsh", "powershell"))
    ):
        return CodeFacts(hidden_code="runs base64-encoded PowerShell")
    return python_facts(code) if python else other_language_facts(code)


def _module(view: tuple[str, ...]) -> str | None:
    for index, word in enumerate(view[1:], start=1):
        if word == "-m":
            return view[index + 1] if index + 1 < len(view) else ""
        if word.startswith("-m") and len(word) > 2:
            return word[2:]
        if not word.startswith("-"):
            return None
    return None


def _has_operand(view: tuple[str, ...]) -> bool:
    return any(not word.startswith("-") for word in view[1:])


def _program(view: tuple[str, ...], spec: shell_args.ArgSpec, read: object) -> Facts:
    """The facts of every program text an awk or sed command is given."""
    from collections.abc import Callable

    reader: Callable[[str], Facts] = read  # type: ignore[assignment]
    view = tuple(literal(word) for word in view)
    found = shell_args.roles(view, spec)
    texts = [r.word for r in found if r.operand and r.role == shell_args.TEXT]
    options = [
        view[i + 1] for i, w in enumerate(view[:-1]) if w in ("-e", "--expression", "--source")
    ]
    options += [w.split("=", 1)[1] for w in view if w.startswith(("--expression=", "--source="))]
    merged = Facts()
    for text in dict.fromkeys(texts + options):
        facts = reader(text)
        merged.commands += facts.commands
        merged.piped_to += facts.piped_to
        merged.writes += facts.writes
        merged.reads += facts.reads
        merged.dynamic_command = merged.dynamic_command or facts.dynamic_command
        merged.dynamic_write = merged.dynamic_write or facts.dynamic_write
        merged.dynamic_read = merged.dynamic_read or facts.dynamic_read
        merged.loads_code = merged.loads_code or facts.loads_code
        merged.unparsed = merged.unparsed or facts.unparsed
    return merged


def _from_facts(facts: Facts) -> CodeFacts:
    feeds_code = [
        command
        for command in facts.piped_to
        if command.split()
        and (
            known.is_shell(skeleton(command.split()[0]))
            or known.is_interpreter(skeleton(command.split()[0]))
        )
    ]
    hidden = "runs text it reads as a command" if facts.dynamic_command else None
    if feeds_code:
        hidden = f"pipes the text it prints into {feeds_code[0]!r}"
    return CodeFacts(
        commands=list(facts.commands),
        hidden_code=hidden,
        writes=list(facts.writes) + (["$dynamic"] if facts.dynamic_write else []),
        reads=list(facts.reads),
        not_read_only=None if facts.only_reads else "writes, runs or loads something",
    )
