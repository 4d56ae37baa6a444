"""Read-only judges for programs with more to say than their options.

git (read subcommands, and branch, tag, remote, stash, config only in their listing forms),
awk and sed (their programs, tokenised), find (start points, tests, and ``-exec`` of a
read-only command), xargs (what it runs, fed by what), Python one-liners (parsed),
wrappers that run one command (timeout, nice, time, stdbuf, command), and a few builtins.
Each returns why the command is not read-only, or None.
"""

from __future__ import annotations

from collections.abc import Callable

from taskcraft.policy import shell_args
from taskcraft.policy import shell_readers as readers
from taskcraft.policy.python_code import python_facts
from taskcraft.policy.script_languages import awk_facts, sed_facts
from taskcraft.policy.shell_read_only import Reading, check_path, judge_words
from taskcraft.policy.shell_words import literal


def _git(words: tuple[str, ...], reading: Reading) -> str | None:
    index = 1
    while index < len(words) and words[index].startswith("-"):
        option = words[index].split("=", 1)[0]
        if option in readers.GIT_GLOBAL_FORBIDDEN or words[index].startswith(
            readers.GIT_GLOBAL_FORBIDDEN
        ):
            return f"git {words[index]} changes what git runs"
        if option in readers.GIT_GLOBAL_VALUES:
            value = (
                words[index].split("=", 1)[1]
                if "=" in words[index]
                else (words[index + 1] if index + 1 < len(words) else "")
            )
            why = check_path(value, reading, "git works in")
            if why:
                return why
            index += 0 if "=" in words[index] else 1
        index += 1
    if index >= len(words):
        return None
    sub, rest = words[index], words[index + 1 :]
    for word in rest:
        if shell_args.forbidden_option(word, readers.GIT_FORBIDDEN, exact=False) and word not in (
            "-O0",
        ):
            return f"git {sub} {word} may write or run programs"
    if sub in readers.GIT_READ:
        operands = [w for w in rest if not w.startswith("-")]
    elif sub in readers.GIT_LISTING:
        allowed, listing = readers.GIT_LISTING[sub]
        options = [w.split("=", 1)[0] for w in rest if w.startswith("-")]
        if any(option not in allowed for option in options):
            return f"git {sub} {next(o for o in options if o not in allowed)} may change the repository"
        operands = [w for w in rest if not w.startswith("-")]
        lists = any(w.split("=", 1)[0] in listing for w in rest)
        if sub in ("stash", "worktree", "submodule") and (
            not operands or operands[0] not in listing
        ):
            return f"git {sub} {' '.join(rest) or '(no arguments)'} changes the repository"
        if sub == "remote" and operands and operands[0] != "get-url":
            return f"git remote {operands[0]} changes the repository"
        if sub == "reflog" and operands and operands[0] != "show":
            return f"git reflog {operands[0]} changes the repository"
        if sub in ("branch", "tag") and operands and not lists and not _values_only(rest):
            return f"git {sub} with a name creates or changes a {sub}"
        if sub == "config" and not lists and len(operands) != 1:
            return "git config with a value changes the configuration"
        operands = []
    else:
        return f"git {sub} may change the repository or reach the network"
    for operand in operands:
        why = check_path(operand, reading, f"git {sub} reads")
        if (why and "outside the workspace" in why) or (why and "expands" in why):
            return why
    return None


def _values_only(rest: tuple[str, ...]) -> bool:
    """Every operand of ``git branch``/``tag`` is the value of an option that takes one."""
    takes = (
        "--contains",
        "--no-contains",
        "--merged",
        "--no-merged",
        "--points-at",
        "--sort",
        "--format",
    )
    index = 0
    while index < len(rest):
        word = rest[index]
        if word in takes:
            index += 2
            continue
        if not word.startswith("-"):
            return False
        index += 1
    return True


def _awk(words: tuple[str, ...], reading: Reading) -> str | None:
    return _program_reader(words, reading, readers.AWK, awk_facts, "awk")


def _sed(words: tuple[str, ...], reading: Reading) -> str | None:
    return _program_reader(words, reading, readers.SED, sed_facts, "sed")


def _program_reader(
    words: tuple[str, ...],
    reading: Reading,
    spec: shell_args.ArgSpec,
    read: Callable[[str], object],
    language: str,
) -> str | None:
    for word in words[1:]:
        if shell_args.forbidden_option(word, spec.forbidden, exact=False) and not word.startswith(
            "--sandbox"
        ):
            return f"{language} {word} may write or run programs"
    found = shell_args.roles(words, spec)
    programs = [literal(r.word) for r in found if r.operand and r.role == shell_args.TEXT]
    programs += [
        literal(words[i + 1])
        for i, w in enumerate(words[:-1])
        if w in ("-e", "--expression", "--source")
    ]
    if not programs:
        return f"{language} without a program to read"
    for program in programs:
        facts = read(program)
        if not getattr(facts, "only_reads", False):
            return f"{language} program may write, run commands or load code"
        for path in getattr(facts, "reads", []):
            why = check_path(path, reading, f"{language} reads")
            if why:
                return why
    for role in found:
        if role.role == shell_args.PATH and not (language == "awk" and "=" in role.word):
            why = check_path(role.word, reading, f"{language} reads")
            if why:
                return why
    return None


def _find(words: tuple[str, ...], reading: Reading) -> str | None:
    index = 1
    while index < len(words) and not words[index].startswith(("-", "(", "!", ")")):
        why = check_path(words[index], reading, "find searches")
        if why:
            return why
        index += 1
    while index < len(words):
        word = words[index]
        if word in ("-delete", "-fprint", "-fprint0", "-fprintf", "-fls"):
            return f"find {word} may write or run programs"
        if word in ("-exec", "-execdir", "-ok", "-okdir"):
            end = next((j for j in range(index + 1, len(words)) if words[j] in (";", "+")), None)
            if end is None or end == index + 1:
                return f"find {word} may write or run programs"
            why = judge_words(words[index + 1 : end], reading)
            if why:
                return f"find {word} may write or run programs: {why}"
            index = end + 1
            continue
        if word in ("-newer", "-anewer", "-cnewer", "-samefile", "-files0-from") or word.startswith(
            "-newer"
        ):
            why = check_path(
                words[index + 1] if index + 1 < len(words) else "", reading, "find reads"
            )
            if why:
                return why
        index += 1
    return None


def _xargs(words: tuple[str, ...], reading: Reading) -> str | None:
    spec = shell_args.ArgSpec(
        values="IsLnPdEa",
        long_values=(
            "--replace",
            "--max-lines",
            "--max-args",
            "--max-procs",
            "--max-chars",
            "--delimiter",
            "--eof",
            "--process-slot-var",
            "--arg-file",
        ),
    )
    index = 1
    while index < len(words) and words[index].startswith("-"):
        word = words[index]
        if word in ("-a", "--arg-file") or word.startswith(("--arg-file=", "-a")):
            return "xargs reads file names from a file nobody has seen"
        takes = (len(word) == 2 and word[1] in spec.values) or (word in spec.long_values)
        index += 2 if takes else 1
    command = words[index:] or ("echo",)
    why = judge_words(command, reading)
    if why:
        return f"xargs runs {command[0]!r}: {why}"
    spec_of_command = readers.READ_ONLY.get(command[0])
    text_only = spec_of_command is not None and spec_of_command.all_text
    if reading.command.stdin_pipe and reading.stdin != "names" and not text_only:
        return f"xargs hands {command[0]} file names from text nobody has seen"
    return None


def _python(words: tuple[str, ...], reading: Reading) -> str | None:
    if len(words) >= 3 and words[1] == "-m" and words[2] == "json.tool":
        operands = [w for w in words[3:] if not w.startswith("-")]
        if len(operands) > 1:
            return "python -m json.tool writes its second operand"
        return next(
            (why for w in operands if (why := check_path(w, reading, "json.tool reads"))), None
        )
    code = literal(words[2]) if len(words) >= 3 and words[1] == "-c" else None
    if len(words) >= 3 and words[1] == "-m" and words[2] == "pip":
        return _pip(("pip", *words[3:]), reading)
    if code is None:
        return f"{words[0]} runs a script or module"
    facts = python_facts(code)
    problems = [
        facts.not_read_only,
        facts.commands and "runs commands",
        (facts.argv_commands or facts.dynamic_command or facts.hidden_code) and "runs commands",
        (facts.deletes or facts.deletes_tree or facts.writes) and "changes files",
        facts.network and "uses the network",
        facts.listens,
        facts.secret_variables and "reads secrets",
    ]
    why = next((problem for problem in problems if problem), None)
    if why:
        return f"python code {why}"
    for path in facts.reads:
        problem = (
            "reads a path it computes"
            if path == "$dynamic"
            else check_path(path, reading, "python reads")
        )
        if problem:
            return problem
    return None


def _wrapper(words: tuple[str, ...], reading: Reading) -> str | None:
    short, long, leading = readers.PLAIN_WRAPPERS[words[0]]
    index = 1
    while index < len(words) and words[index].startswith("-") and words[index] != "-":
        word = words[index]
        if words[0] == "command" and word in ("-v", "-V"):
            return None
        if words[0] == "time" and word.startswith(("-o", "--output")):
            return "time -o writes a file"
        takes = (len(word) == 2 and word[1] in short) or word in long
        index += 2 if takes else 1
    if words[0] == "nice" and index < len(words) and words[index].lstrip("-").isdigit():
        index += 1
    index += leading
    if index >= len(words):
        return None
    return judge_words(words[index:], reading)


def _cd(words: tuple[str, ...], reading: Reading) -> str | None:
    operands = [w for w in words[1:] if not w.startswith("-")]
    if len(operands) != 1:
        return "cd without one directory goes somewhere the policy cannot see"
    return check_path(operands[0], reading, "cd enters")


def _set(words: tuple[str, ...], reading: Reading) -> str | None:
    if len(words) == 1:
        return "set prints the environment"
    return None if words[1].startswith(("-", "+")) else "set changes the positional parameters"


def _declare(words: tuple[str, ...], reading: Reading) -> str | None:
    names = [w for w in words[1:] if not w.startswith(("-", "+"))]
    if not names:
        return f"{words[0]} prints the environment"
    for word in names:
        name = word.split("=", 1)[0]
        if name in readers.DANGEROUS_VARIABLES:
            return f"{words[0]} {name} changes what programs run"
    return None


def _builtin(words: tuple[str, ...], reading: Reading) -> str | None:
    return None


def _printenv(words: tuple[str, ...], reading: Reading) -> str | None:
    names = [w for w in words[1:] if not w.startswith("-")]
    return None if names else "printenv prints the environment"


def _pip(words: tuple[str, ...], reading: Reading) -> str | None:
    operands = [w for w in words[1:] if not w.startswith("-")]
    if not operands or operands[0] not in ("list", "show", "freeze", "check"):
        return f"{words[0]} {' '.join(operands[:1]) or '(no command)'} may install or reach the network"
    if any(w in ("-o", "--outdated", "-u", "--uptodate", "--index-url", "-i") for w in words):
        return f"{words[0]} {operands[0]} asks the package index"
    return None


_BUILTINS = frozenset({"exit", "return", "shift", "break", "continue", "wait", "unset", "read", "getopts", "mapfile", "readarray"})  # fmt: skip
SPECIAL: dict[str, Callable[[tuple[str, ...], Reading], str | None]] = {
    "git": _git,
    **dict.fromkeys(sorted(readers.AWK_NAMES), _awk),
    **dict.fromkeys(sorted(readers.SED_NAMES), _sed),
    "find": _find,
    "xargs": _xargs,
    **dict.fromkeys(sorted(readers.PYTHON_NAMES), _python),
    **dict.fromkeys(sorted(readers.PLAIN_WRAPPERS), _wrapper),
    "cd": _cd,
    "printenv": _printenv,
    **dict.fromkeys(("pip", "pip3"), _pip),
    "set": _set,
    **dict.fromkeys(("export", "declare", "local", "readonly", "typeset"), _declare),
    **dict.fromkeys(sorted(_BUILTINS), _builtin),
}
