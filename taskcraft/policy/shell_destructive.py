"""Is one program's argv destructive? (See ``shell_danger`` for the other kinds.)

Options are read with their look-alike dashes normalised (``—rf`` is ``-rf``) and GNU's
abbreviations (``--rec``), values through what the line binds (``$HOME/x`` is ``~/x``);
an expansion nobody can follow counts as outside the workspace.
"""

from __future__ import annotations

import itertools
import re

from taskcraft.policy import shell_args
from taskcraft.policy import shell_programs as known
from taskcraft.policy.shell_steps import Step
from taskcraft.policy.shell_words import Bindings, flag, skeleton
from taskcraft.policy.sql import SqlSyntaxError, classify_sql

_GIT_METADATA = re.compile(
    r"(^|/)\.git/(hooks|config|info/attributes)(/|$)|(^|/)\.git/?$", re.IGNORECASE
)


def git_metadata(path: str) -> bool:
    """``.git/hooks``, ``.git/config``: files that make later git commands run code."""
    return bool(_GIT_METADATA.search(path))


_SETUID_MODE = re.compile(r"^([ugoa]*[+=][rwxXt]*s|[0-7]?[2467][0-7]{3})$")
_RAW_DISK = re.compile(r"^/dev/(sd|hd|vd|xvd|nvme|mmcblk|disk|mapper/|md|dm-|loop)")
# (program, leading words) that destroy infrastructure or data outside the workspace.
_DESTROYING_SUBCOMMANDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "docker": (("system", "prune"), ("volume", "prune"), ("volume", "rm"), ("container", "prune"),
               ("image", "prune"), ("rm",), ("rmi",), ("kill",)),
    "podman": (("system", "prune"), ("volume", "prune"), ("volume", "rm"), ("rm",), ("rmi",)),
    "kubectl": (("delete",), ("drain",), ("scale",)),
    "helm": (("uninstall",), ("delete",)),
    "terraform": (("destroy",),),
    "dropdb": ((),),
    "redis-cli": (("flushall",), ("flushdb",)),
    "gh": (("repo", "delete"), ("release", "delete")),
}  # fmt: skip
_CLOUD_DELETE = re.compile(r"^(delete|terminate|remove|destroy|purge|deregister|rb|rm)(-|$)")
_MATCH_ALL_SAMPLES = ("python3", "bash", "systemd", "sshd", "init", "temporal")


def destructive_program(
    view: tuple[str, ...], step: Step, bindings: Bindings, root: str | None
) -> str | None:
    name = skeleton(view[0])
    if name in known.PRIVILEGE_ESCALATION:
        return f"{name} runs commands with other privileges"
    if name in known.DISK_DESTROYERS or name.startswith("mkfs"):
        return f"{name} destroys disks or data"
    if name in known.SYSTEM_CHANGERS:
        return f"{name} changes the system outside the workspace"
    flags = tuple(flag(word) for word in view)
    special = _SPECIAL.get(name)
    if special is not None:
        why = special(flags, step, bindings, root)
        if why:
            return why
    if name == "xargs" and any(skeleton(word) in known.DELETERS for word in view[1:]):
        return "xargs feeds files nobody has seen to a deleting program"
    return _changes_outside(name, flags, bindings, root)


def _changes_outside(
    name: str, view: tuple[str, ...], bindings: Bindings, root: str | None
) -> str | None:
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
    for path in touched:
        values = bindings.expand(path)
        if values is None or any(shell_args.outside(value, root) for value in values):
            return f"{name} changes {path!r}, outside the workspace"
        if any(git_metadata(value) for value in values):
            return f"{name} changes {path!r}: git metadata (hooks, config) runs code later"
        if (
            name in ("mv", "cp", "install", "ln")
            and path in ("/dev/null", "/dev/zero")
            and path is operands[-1]
        ):
            return f"{name} into {path} destroys the files it moves"
    return None


def _rm(view: tuple[str, ...], step: Step, bindings: Bindings, root: str | None) -> str | None:
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
    for path in shell_args.operands(view):
        values = bindings.expand(path)
        if values is None or any(shell_args.outside(value, root) for value in values):
            return f"rm deletes {path!r}, outside the workspace"
    return None


def _find(view: tuple[str, ...], step: Step, bindings: Bindings, root: str | None) -> str | None:
    if "-delete" in view:
        return "find -delete deletes every file it finds"
    for action, program in itertools.pairwise(view):
        if action in known.FIND_EXEC_ACTIONS and skeleton(program) in known.DELETERS:
            return f"find {action} {program} deletes every file it finds"
    return None


def _kill(view: tuple[str, ...], step: Step, bindings: Bindings, root: str | None) -> str | None:
    words = list(view[1:])
    if words[:1] in (["-s"], ["-n"]):
        words = words[2:]
    elif words and words[0].startswith("-") and words[0] != "--":
        words = words[1:]
    if words[:1] == ["--"]:
        words = words[1:]
    for target in words:
        if target in known.KILL_EVERYTHING_TARGETS:
            return f"kill {target} signals every process"
        for sub in step.script.substitution(target):
            programs = {skeleton(c.words[0]) for c in sub.commands if c.words}
            if programs & {"ps", "pgrep", "pidof", "ls"}:
                return "kill of every process a listing found"
    if step.command.stdin_pipe and skeleton(step.words[0]) == "xargs":
        return "xargs kill of process ids piped in"
    return None


def _pkill(view: tuple[str, ...], step: Step, bindings: Bindings, root: str | None) -> str | None:
    spec = shell_args.ArgSpec(
        values="gGPsStUuFn",
        long_values=(
            "--signal",
            "--uid",
            "--euid",
            "--group",
            "--parent",
            "--session",
            "--terminal",
        ),
    )
    operands = [r.word for r in shell_args.roles(view, spec) if r.operand]
    selectors = [
        w
        for w in view[1:]
        if w.startswith(("-u", "-U", "-g", "-G", "-P", "-s", "--uid", "--euid", "--group"))
    ]
    if not operands:
        return (
            f"{skeleton(view[0])} without a pattern signals every process it selects"
            if selectors
            else None
        )
    try:
        pattern = re.compile(operands[0])
    except re.error:
        return None
    if all(pattern.search(sample) for sample in _MATCH_ALL_SAMPLES):
        return f"{skeleton(view[0])} {operands[0]!r} matches every process"
    return None


def _killall(view: tuple[str, ...], step: Step, bindings: Bindings, root: str | None) -> str | None:
    if any(
        w in ("-r", "--regexp", "-u", "--user") or re.match(r"^-[a-zA-Z]*[ru]", w) for w in view[1:]
    ):
        return "killall by pattern or user signals every process it matches"
    return None


def _chmod(view: tuple[str, ...], step: Step, bindings: Bindings, root: str | None) -> str | None:
    for word in view[1:]:
        if _SETUID_MODE.match(word.lstrip("-") if word.startswith("-") and "s" in word else word):
            return f"chmod {word} sets a setuid or setgid bit: a privilege escalation"
    return None


_GIT_PATH_CHANGERS = frozenset(
    {"clean", "rm", "checkout", "restore", "reset", "mv", "apply", "clone", "init", "worktree"}
)


def _git(view: tuple[str, ...], step: Step, bindings: Bindings, root: str | None) -> str | None:
    words = [w for w in view[1:] if not w.startswith("-")]
    if words and words[0] in _GIT_PATH_CHANGERS:
        for path in words[1:]:
            values = bindings.expand(path)
            url = words[0] == "clone" and path is words[1]  # clone's first operand is a URL
            outside = values is None or any(shell_args.outside(v, root) for v in values)
            if path != "." and outside and not url:
                return f"git {words[0]} changes {path!r}, outside the workspace"
    if words[:1] == ["push"]:
        forced = [
            w
            for w in view
            if w in ("-f", "--force", "--force-with-lease", "--mirror", "--delete", "-d", "--prune")
            or w.startswith(("--force", "+"))
        ]
        refs = [w for w in words[1:] if w.startswith((":", "+"))]
        if forced or refs:
            return "git push that rewrites or deletes remote history"
    return None


def _tar(view: tuple[str, ...], step: Step, bindings: Bindings, root: str | None) -> str | None:
    if any(
        w in ("-P", "--absolute-names")
        or (w.startswith("-") and not w.startswith("--") and "P" in w)
        for w in view[1:]
    ):
        return "tar with absolute names writes anywhere on the machine"
    if any(
        w.startswith("--to-command")
        or w.startswith("--checkpoint-action")
        or w in ("-I", "--use-compress-program")
        for w in view[1:]
    ):
        return "tar that runs another program"
    return None


def _dd(view: tuple[str, ...], step: Step, bindings: Bindings, root: str | None) -> str | None:
    for word in view[1:]:
        if word.lower().startswith("if=") and _RAW_DISK.match(word[3:]):
            return f"dd reads the raw disk {word[3:]}"
    return None


def _subcommands(
    view: tuple[str, ...], step: Step, bindings: Bindings, root: str | None
) -> str | None:
    name = skeleton(view[0])
    words = [w.lower() for w in view[1:] if not w.startswith("-")]
    for wanted in _DESTROYING_SUBCOMMANDS.get(name, ()):
        if tuple(words[: len(wanted)]) == wanted:
            return f"{name} {' '.join(wanted)} destroys data or infrastructure".replace("  ", " ")
    if name in ("aws", "gcloud", "az", "doctl", "gsutil", "s3cmd") and any(
        _CLOUD_DELETE.match(w) for w in words[:4]
    ):
        return f"{name} deletes cloud resources"
    if name in ("aws",) and words[:2] == ["s3", "rm"]:
        return "aws s3 rm deletes objects"
    if any("docker.sock" in w for w in view):
        return f"{name} hands the host's container engine to a container"
    if any(
        w in ("--privileged", "--pid=host", "--net=host", "--cap-add=ALL", "--cap-add=SYS_ADMIN")
        for w in view
    ) or any(re.match(r"^(-v|--volume=?)?/:", w) or w in ("/:/host", "/:/mnt") for w in view):
        return f"{name} starts a container with the host's privileges"
    return None


def _sql_client(
    view: tuple[str, ...], step: Step, bindings: Bindings, root: str | None
) -> str | None:
    name = skeleton(view[0])
    queries: list[str] = []
    for index, word in enumerate(view[1:], start=1):
        following = view[index + 1] if index + 1 < len(view) else ""
        if word in ("-c", "--command", "-e", "--execute", "-q", "--query") or (
            name == "mysql" and word == "-e"
        ):
            queries.append(following)
        elif word.startswith(("--command=", "--execute=", "--query=")):
            queries.append(word.split("=", 1)[1])
    if name in ("sqlite3", "duckdb"):
        operands = shell_args.operands(view)
        queries += operands[1:]
    for operator, target in step.command.redirects:
        if operator in ("<<", "<<-", "<<<"):
            queries.append(target)
    if step.command.stdin_pipe:  # echo 'DELETE FROM t' | sqlite3 app.db
        queries += _piped_text(step)
    for query in queries:
        try:
            verdict = classify_sql(query)
        except SqlSyntaxError:
            return f"{name} runs SQL that cannot be parsed"
        if verdict.destructive:
            return f"{name} runs destructive SQL: {verdict.destructive}"
    return None


_SPECIAL = {
    "rm": _rm,
    "find": _find,
    "kill": _kill,
    "pkill": _pkill,
    "killall": _killall,
    "chmod": _chmod,
    "git": _git,
    "tar": _tar,
    "dd": _dd,
    **dict.fromkeys(
        ("psql", "mysql", "mariadb", "sqlite3", "duckdb", "clickhouse-client", "cockroach"),
        _sql_client,
    ),
    **dict.fromkeys(
        (*_DESTROYING_SUBCOMMANDS, "aws", "gcloud", "az", "doctl", "gsutil", "s3cmd"), _subcommands
    ),
}


def _piped_text(step: Step) -> list[str]:
    """What an ``echo``/``printf`` of literal words pipes into this step's command."""
    commands = step.script.commands
    index = next((i for i, c in enumerate(commands) if c is step.command), 0)
    producer = next((c for c in reversed(commands[:index]) if c.stdout_pipe), None)
    if (
        producer is None
        or not producer.words
        or skeleton(producer.words[0]) not in ("echo", "printf")
    ):
        return []
    words = [w for w in producer.words[1:] if not w.startswith("-")]
    return [] if any(shell_args.has_placeholder(w) for w in words) else [" ".join(words)]
