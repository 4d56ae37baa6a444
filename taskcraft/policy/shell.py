"""What a shell command line would do: destroy, leak, send out, run hidden code, or only read.

Each classifier reads one shared analysis of the line (``shell_analysis``): the simple
commands bash would run, including those inside substitutions, function bodies,
here-documents and ``sh -c``/``eval`` strings, each looked at through every program it
may start (``sudo -u x env A=1 rm -rf /`` is also ``rm -rf /``). Program names are
compared by their skeleton (``/bin/RM``, full-width ``rm`` and ``rм`` are all ``rm``), so renaming
tricks only ever make a command look *more* dangerous. Anything that cannot be analysed
(bad quoting, a program name made of an expansion, nesting too deep, text too long) is
destructive, downloads-and-runs, reads secrets, sends data out and runs hidden code, and
is not read-only: every classifier fails closed.

Interpreter one-liners are read too: Python with ``ast``, awk and sed programs by their
grammar, other languages by a scan that can only find danger.
"""

from __future__ import annotations

from taskcraft.policy.context import NO_CONTEXT, PolicyContext
from taskcraft.policy.finding import Finding
from taskcraft.policy.shell_analysis import MAX_COMMAND_CHARS, ShellAnalysis, analyse
from taskcraft.policy.shell_words import skeleton

__all__ = [
    "MAX_COMMAND_CHARS",
    "describe",
    "is_destructive",
    "is_read_only",
    "pipes_download_to_shell",
    "program_name",
    "reads_secrets",
    "runs_hidden_code",
    "sends_data_out",
]


def program_name(word: str) -> str:
    return skeleton(word)


def describe(command: str, context: PolicyContext = NO_CONTEXT) -> ShellAnalysis:
    return analyse(command, context.workspace_root)


def is_destructive(command: str, context: PolicyContext = NO_CONTEXT) -> Finding:
    """Deletes trees, destroys disks, changes the system, escalates, writes outside, kills all."""
    return _danger(command, context, "destructive", "no destructive command found")


def pipes_download_to_shell(command: str, context: PolicyContext = NO_CONTEXT) -> Finding:
    """Downloads something and later runs a shell, an interpreter or a file in the same line."""
    return _danger(command, context, "download_run", "nothing downloaded is run")


def reads_secrets(command: str, context: PolicyContext = NO_CONTEXT) -> Finding:
    """Reads credentials outside the workspace, a credential store, or a secret variable."""
    return _danger(command, context, "secrets", "reads no secrets")


def sends_data_out(command: str, context: PolicyContext = NO_CONTEXT) -> Finding:
    """Uploads files or command output, listens for connections, opens a remote shell."""
    return _danger(command, context, "sends_out", "sends nothing out")


def runs_hidden_code(command: str, context: PolicyContext = NO_CONTEXT) -> Finding:
    """Runs decoded, generated or piped-in text in a shell or an interpreter."""
    return _danger(command, context, "hidden_code", "runs no hidden code")


def is_read_only(command: str, context: PolicyContext = NO_CONTEXT) -> Finding:
    """Only known read-only programs, reading inside the workspace, writing nothing."""
    analysis = analyse(command, context.workspace_root)
    if analysis.error:
        return Finding(False, analysis.error)
    if analysis.not_read_only:
        return Finding(False, analysis.not_read_only)
    programs = [line.split(" ", 1)[0] for line in analysis.programs if line and line[0] != " "]
    return Finding(True, "only reads: " + (", ".join(dict.fromkeys(programs)) or "nothing"))


def _danger(command: str, context: PolicyContext, kind: str, otherwise: str) -> Finding:
    analysis = analyse(command, context.workspace_root)
    if analysis.error:
        return Finding(True, analysis.error)
    why = getattr(analysis, kind)
    return Finding(why is not None, why or otherwise)
