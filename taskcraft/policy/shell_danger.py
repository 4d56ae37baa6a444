"""Known-dangerous shell commands, in five kinds, each with a short reason.

* destructive: deletes trees or data outside the workspace, destroys disks, changes the
  system, escalates privileges, kills every process, fork-bombs, rewrites remote history;
* download_run: runs what it just downloaded (``curl | sh`` and its variants);
* secrets: reads credentials outside the workspace (``/etc/shadow``, ``~/.ssh``,
  ``/proc/*/environ``, cloud and keychain stores, secret-looking variables);
* sends_out: uploads files or command output, listens for connections, opens a remote
  shell or a tunnel;
* hidden_code: runs code nobody can see: decoded or generated text piped or handed to a
  shell or an interpreter, ``eval`` of an expansion, an interpreter one-liner that
  executes what it decodes.

The facts come from the parsed steps (``shell_steps``) and what the line binds to its
variables (``shell_words.Bindings``); interpreter code from ``python_code`` and ``other_code``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from taskcraft.policy import shell_args, shell_network
from taskcraft.policy import shell_programs as known
from taskcraft.policy.code_facts import CodeFacts
from taskcraft.policy.secret_paths import secret_location
from taskcraft.policy.shell_code import code_argument, code_of
from taskcraft.policy.shell_destructive import destructive_program, git_metadata
from taskcraft.policy.shell_readers import AWK, READ_ONLY, SED
from taskcraft.policy.shell_steps import Step
from taskcraft.policy.shell_words import (
    Bindings,
    has_expansion,
    is_secret_variable,
    literal,
    skeleton,
    variables,
)

KINDS = ("destructive", "download_run", "secrets", "sends_out", "hidden_code")
_PROGRAM_SPECS = {"awk": AWK, "gawk": AWK, "mawk": AWK, "nawk": AWK, "sed": SED, "gsed": SED}


@dataclass
class Danger:
    destructive: str | None = None
    download_run: str | None = None
    secrets: str | None = None
    sends_out: str | None = None
    hidden_code: str | None = None

    def note(self, kind: str, why: str | None) -> None:
        if why and getattr(self, kind) is None:
            setattr(self, kind, why)


def find_danger(found: list[Step], bindings: Bindings, root: str | None) -> Danger:
    danger = Danger()
    for name in sorted(found[0].script.recursive_functions if found else ()):
        danger.note("destructive", f"function {name!r} calls itself: a fork bomb")
    for step in found:
        _redirections(step, bindings, root, danger)
        for view in step.views:
            _view(step, view, bindings, root, danger)
        for name, _ in step.assignments:
            if name in ("LD_PRELOAD", "BASH_ENV", "ENV", "PROMPT_COMMAND", "LD_AUDIT"):
                danger.note("hidden_code", f"{name} makes every program load code nobody has seen")
    _run_after_download(found, danger)
    _run_written_scripts(found, bindings, root, danger)
    return danger


def _redirections(step: Step, bindings: Bindings, root: str | None, danger: Danger) -> None:
    for operator, target in step.command.redirects:
        if operator in ("<<", "<<-", "<<<"):
            continue
        values = bindings.expand(target) or [target]
        if any("/dev/tcp/" in v or "/dev/udp/" in v for v in values):
            danger.note("sends_out", f"redirects to {target!r}, a network connection")
        if shell_args.writes_file(operator, target):
            if any(shell_args.outside(value, root) for value in values):
                danger.note("destructive", f"redirects output to {target!r}, outside the workspace")
            if any(git_metadata(value) for value in values):
                danger.note("destructive", f"writes {target!r}: git metadata runs code later")
        elif operator in ("<", "<>"):
            danger.note("secrets", _secret(values, root, f"reads {target!r}"))


def _view(
    step: Step, view: tuple[str, ...], bindings: Bindings, root: str | None, danger: Danger
) -> None:
    raw, name = view[0], skeleton(view[0])
    if (raw not in ("[", "{}") and any(char in raw for char in "$`*?[{")) or has_expansion(raw):
        danger.note("destructive", f"cannot tell which program {step.script.display(raw)!r} runs")
        return
    danger.note("destructive", destructive_program(view, step, bindings, root))
    danger.note("secrets", _secret_reads(view, step, bindings, root))
    danger.note("sends_out", shell_network.sends_out(view, step, bindings))
    danger.note("hidden_code", _hidden_code(view, step, bindings))
    danger.note("download_run", _installs_from_url(view))
    facts = code_of(view, step)
    if facts is not None:
        _code(facts, step, root, danger, name)


def _secret_reads(
    view: tuple[str, ...], step: Step, bindings: Bindings, root: str | None
) -> str | None:
    name = skeleton(view[0])
    for program, subcommands in known.SECRET_STORES.items():
        if name == program:
            words = [word.lower() for word in view[1:]]
            for subcommand in subcommands:
                if _contains_sequence(words, subcommand):
                    return f"{name} {' '.join(subcommand)} prints stored credentials"
    if name == "printenv" and any(is_secret_variable(word) for word in view[1:]):
        return "printenv prints a variable that usually holds a secret"
    if name == "ps" and any(
        r.operand and r.word.isalpha() and "e" in r.word
        for r in shell_args.roles(view, READ_ONLY["ps"])
    ):
        return "ps e shows other processes' environments"
    for word in view[1:]:
        for variable in variables(word, step.script):
            if is_secret_variable(variable) and variable not in bindings.values:
                return f"expands ${variable}, which usually holds a secret"
    spec = READ_ONLY.get(name) or _PROGRAM_SPECS.get(name)
    if spec is not None:  # a known program: only its path arguments (not patterns, formats)
        words = [r.word for r in shell_args.roles(view, spec) if r.role == shell_args.PATH]
    else:
        words = list(view[1:])
    for word in words:
        for candidate in shell_args.path_candidates(word):
            why = _secret(
                bindings.expand(candidate) or [candidate], root, f"{name} reads {candidate!r}"
            )
            if why:
                return why
    return None


def _secret(values: list[str], root: str | None, action: str) -> str | None:
    for value in values:
        for alternative in shell_args.expand_braces(value) or [value]:
            kind = secret_location(alternative)
            if kind and shell_args.outside(alternative, root):
                return f"{action}: {kind}, outside the workspace"
    return None


def _contains_sequence(words: list[str], wanted: tuple[str, ...]) -> bool:
    return any(tuple(words[i : i + len(wanted)]) == wanted for i in range(len(words)))


def _hidden_code(view: tuple[str, ...], step: Step, bindings: Bindings) -> str | None:
    name = skeleton(view[0])
    command = step.command
    if name == "eval" or (name in known.RUN_ARGUMENTS_AS_COMMAND and name != "watch"):
        if any(bindings.expand(word) is None for word in view[1:]):
            return f"{name} runs a command line built at run time"
        return None
    if name in ("source", "."):
        sourced = next((w for w in view[1:] if not w.startswith("-")), "")
        if shell_args.has_placeholder(sourced) or sourced in ("/dev/stdin", "-", "/proc/self/fd/0"):
            return f"{name} runs generated or piped-in text"
        return None
    shell = known.is_shell(name)
    if not (shell or known.is_interpreter(name)):
        return None
    code = code_argument(view)
    if code is not None:
        if bindings.expand(code) is None:
            return f"{name} runs code built at run time"
        under_xargs = skeleton(step.words[0]) == "xargs"
        replace = _xargs_replace(step.words) if under_xargs else None
        if (replace and replace in code) or (under_xargs and not code):
            return f"xargs puts the text it reads into the code {name} runs"
        return None
    script = _script_operand(view)
    if script is not None:
        if shell_args.has_placeholder(script) or script.startswith(("/dev/fd/", "/proc/self/fd")):
            return f"{name} runs generated text as a program"
        if script in ("-", "/dev/stdin") and command.stdin_pipe:
            return f"{name} runs the text piped into it"
        if skeleton(step.words[0]) == "xargs" and command.stdin_pipe:
            return f"xargs hands piped-in text to {name}"
        return None
    if command.stdin_pipe:
        return f"{name} runs the text piped into it, which nobody has seen"
    for operator, target in command.redirects:
        if operator in ("<<", "<<-", "<<<") and has_expansion(target):
            return f"{name} runs a here-document built at run time"
    return None


def _xargs_replace(words: tuple[str, ...]) -> str | None:
    """The string ``xargs -I``/``-i``/``--replace`` replaces with each input line."""
    for index, word in enumerate(words[1:], start=1):
        if word == "-I" and index + 1 < len(words):
            return words[index + 1]
        if word.startswith("-I") and len(word) > 2:
            return word[2:]
        if word.startswith(("-i", "--replace")):
            value = word.split("=", 1)[1] if "=" in word else word[2:]
            return value or "{}"
    return None


def _script_operand(view: tuple[str, ...]) -> str | None:
    for word in view[1:]:
        if word == "-" or not word.startswith("-"):
            return word
    return None


def _code(facts: CodeFacts, step: Step, root: str | None, danger: Danger, name: str) -> None:
    from taskcraft.policy.shell_analysis import analyse_inline

    danger.note("hidden_code", facts.hidden_code and f"{name}: {facts.hidden_code}")
    danger.note("destructive", facts.deletes_tree and f"{name}: {facts.deletes_tree}")
    for path in facts.deletes + facts.writes:
        if path != "$dynamic" and shell_args.outside(path, root):
            danger.note("destructive", f"{name} changes {path!r}, outside the workspace")
    if facts.fork_loop:
        danger.note("destructive", f"{name} forks in a loop: a fork bomb")
    if facts.kills_all:
        danger.note("destructive", f"{name} kills every process")
    danger.note("sends_out", facts.reverse_shell and f"{name}: {facts.reverse_shell}")
    danger.note("sends_out", facts.sends_out and f"{name}: {facts.sends_out}")
    danger.note("sends_out", facts.listens and f"{name}: {facts.listens}")
    for variable in facts.secret_variables:
        danger.note("secrets", f"{name} reads {variable}, which usually holds a secret")
    danger.note("secrets", _secret(facts.reads, root, f"{name} reads"))
    commands = list(facts.commands) + [" ".join(argv) for argv in facts.argv_commands]
    for text in commands:
        inner = analyse_inline(text, root, step.depth + 1)
        for kind in KINDS:
            danger.note(
                kind, getattr(inner, kind) and f"{name} runs {text!r}: {getattr(inner, kind)}"
            )


def _run_after_download(found: list[Step], danger: Danger) -> None:
    """A download, or decoded text written to a file, followed by running a shell or a file."""
    source: tuple[str, str] | None = None  # (kind, program)
    for step in found:
        names = [skeleton(view[0]) for view in step.views]
        if source is not None:
            for view, name in zip(step.views, names, strict=True):
                if known.is_shell(name) or known.is_interpreter(name) or "/" in view[0]:
                    kind, program = source
                    danger.note(
                        kind, f"runs {view[0]!r} after {program} produced code nobody has seen"
                    )
        if source is None:
            downloader = next((n for n in names if n in known.DOWNLOADERS), None)
            if (
                step.words
                and skeleton(step.words[0]) in ("git", "hg", "svn")
                and any(w in ("clone", "checkout", "co") for w in step.words[1:3])
            ):
                downloader = f"{skeleton(step.words[0])} clone"
            if downloader:
                source = ("download_run", f"downloading with {downloader}")
            elif _decodes(step):
                source = ("hidden_code", f"decoding with {names[0]}")


def _decodes(step: Step) -> bool:
    if not step.words:
        return False
    name, words = skeleton(step.words[0]), step.words[1:]
    flags = " ".join(words)
    if name in ("base64", "base32", "basenc") and any(
        w in ("-d", "--decode", "-D")
        or (w.startswith("-") and "d" in w[1:] and not w.startswith("--"))
        for w in words
    ):
        return True
    if name == "xxd" and "-r" in flags:
        return True
    if name == "openssl" and ("-d" in words or ("-base64" in words and "-d" in flags)):
        return True
    return name in ("uudecode", "gpg") and ("-d" in words or name == "uudecode")


_INSTALLERS = frozenset({"pip", "pip3", "uv", "npm", "pnpm", "yarn", "gem", "cargo", "go", "pipx"})


def _installs_from_url(view: tuple[str, ...]) -> str | None:
    """``pip install git+https://...`` and the like: code fetched and run on the spot."""
    name = skeleton(view[0])
    if name not in _INSTALLERS or not {"install", "add", "get"} & set(view[1:4]):
        return None
    for word in view[1:]:
        if "://" in word or word.startswith(("git+", "github:", "git@")):
            return f"{name} installs, and so runs, code from {word!r}"
    return None


def _run_written_scripts(
    found: list[Step], bindings: Bindings, root: str | None, danger: Danger
) -> None:
    """``echo 'rm -rf ~' > x.sh; sh x.sh``: a script this line writes, then runs."""
    from taskcraft.policy.shell_analysis import analyse_inline

    written: dict[str, str | None] = {}
    for step in found:
        for view in step.views:
            script = _script_run_by(view)
            if script is None or posixpath.normpath(script) not in written:
                continue
            content = written[posixpath.normpath(script)]
            if content is None:
                danger.note(
                    "hidden_code", f"runs {script}, which this line filled with command output"
                )
                continue
            inner = analyse_inline(content, root, step.depth + 1)
            for kind in KINDS:
                why = getattr(inner, kind)
                danger.note(kind, why and f"runs {script}, which this line wrote: {why}")
        content = _literal_output(step)
        for operator, target in step.command.redirects:
            if operator in (">", ">>", ">|", "&>", "&>>") and not shell_args.has_placeholder(
                target
            ):
                key = posixpath.normpath(target)
                previous = written.get(key, "") if operator.endswith(">>") else ""
                written[key] = None if content is None or previous is None else previous + content


def _script_run_by(view: tuple[str, ...]) -> str | None:
    name = skeleton(view[0])
    if "/" in view[0]:
        return view[0]
    if (known.is_shell(name) and name != "eval") or name in ("source", "."):
        return _script_operand(view)
    return None


def _literal_output(step: Step) -> str | None:
    """What ``echo``/``printf``/``cat <<EOF`` print, when it is all literal text."""
    words = step.words
    if not words:
        return None
    name = skeleton(words[0])
    heredocs = [target for op, target in step.command.redirects if op in ("<<", "<<-", "<<<")]
    if name == "cat" and len(words) == 1 and heredocs:
        text = "\n".join(heredocs)
        return None if "$(" in text or "`" in text else text
    if name not in ("echo", "printf"):
        return None
    arguments = [w for w in words[1:] if not (name == "echo" and w in ("-n", "-e", "-E"))]
    if any(shell_args.has_placeholder(w) for w in arguments):
        return None
    text = " ".join(literal(w) for w in arguments)
    return text.replace("\\n", "\n").replace("\\t", "\t") + "\n"
