"""One reading of a shell command line, shared by every shell classifier and the call view.

``analyse`` parses the line once (``shell_syntax``), works out what its variables and
substitutions may hold (``shell_read_only.bind``), finds the known dangers
(``shell_danger``) and whether it only reads (``shell_read_only``), and keeps the result:
the policy asks several questions about the same command, and workflow code must stay
fast. Anything that cannot be analysed is recorded as such, and every classifier reads
that as its fail-closed answer.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from functools import lru_cache

from taskcraft.policy import shell_args
from taskcraft.policy.shell_danger import Danger, find_danger
from taskcraft.policy.shell_line import bind, line_is_read_only
from taskcraft.policy.shell_steps import Step, steps
from taskcraft.policy.shell_syntax import Script, ShellSyntaxError, parse_script
from taskcraft.policy.urls import split_host

MAX_COMMAND_CHARS = 16_384
MAX_SHOWN = 64  # the view shows fewer, and says how many more


@dataclass(frozen=True)
class ShellAnalysis:
    error: str | None = None  # why the line cannot be analysed
    destructive: str | None = None
    download_run: str | None = None
    secrets: str | None = None
    sends_out: str | None = None
    hidden_code: str | None = None
    not_read_only: str | None = None  # None: read-only
    programs: tuple[str, ...] = ()  # each simple command as parsed, in the order it runs
    paths: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()


@lru_cache(maxsize=2048)
def analyse(command: str, root: str | None = None) -> ShellAnalysis:
    """The analysis of ``command`` with the workspace at ``root`` (None: unknown)."""
    try:
        if len(command) > MAX_COMMAND_CHARS:
            raise ShellSyntaxError(f"longer than {MAX_COMMAND_CHARS} characters")
        script = parse_script(command)
        found = steps(script)
        bindings = bind(script, root)
        danger = find_danger(found, bindings, root)
        read_only = line_is_read_only(script, bindings, root)
    except (ShellSyntaxError, RecursionError) as error:
        return ShellAnalysis(error=f"cannot be analysed ({error})")
    programs, paths, hosts = _seen(script, found)
    return ShellAnalysis(
        destructive=danger.destructive,
        download_run=danger.download_run,
        secrets=danger.secrets,
        sends_out=danger.sends_out,
        hidden_code=danger.hidden_code,
        not_read_only=read_only,
        programs=programs,
        paths=paths,
        hosts=hosts,
    )


def analyse_inline(text: str, root: str | None, depth: int) -> Danger:
    """The dangers of a command line an interpreter runs (``os.system("...")``)."""
    try:
        script = parse_script(text, depth)
        return find_danger(steps(script, depth), bind(script, root), root)
    except (ShellSyntaxError, RecursionError) as error:
        return Danger(destructive=f"runs a command that cannot be analysed ({error})")


def _seen(script: Script, found: list[Step]) -> tuple[tuple[str, ...], ...]:
    programs: list[str] = []
    paths: list[str] = []
    hosts: list[str] = []
    for step in found:
        if not step.words:
            continue
        shown = " ".join(_quoted(script.display(word)) for word in step.words)
        programs.append(("  " * step.depth) + shown[:160])
        for word in step.words[1:]:
            host = split_host(word) if "://" in word else None
            if host:
                hosts.append(host)
            elif not word.startswith("-") and ("/" in word or "." in word) and len(word) < 200:
                paths.append(script.display(word))
        for operator, target in step.command.redirects:
            if operator not in ("<<", "<<-", "<<<") and not shell_args.has_placeholder(target):
                paths.append(f"{operator} {target}")
    return (
        tuple(programs[:MAX_SHOWN]),
        tuple(dict.fromkeys(paths))[:MAX_SHOWN],
        tuple(dict.fromkeys(hosts))[:MAX_SHOWN],
    )


def _quoted(word: str) -> str:
    """A word as a person would type it: quoted when it holds spaces or is empty."""
    return shlex.quote(word) if not word or any(c.isspace() for c in word) else word
