"""Files and folders that usually hold credentials, recognised by their path's components.

``secret_location`` names the kind of secret a path may reach, or returns None. It is
lexical, like ``paths``: ``~``, ``$HOME`` and ``${HOME}`` stand for a home directory,
``.`` and ``..`` components are resolved, case is ignored, and a component with glob
characters counts when it *could* match a secret name (``/etc/sh*w``, ``~/.ss?/id_*``).
A folder that is itself a secret store (``~/.ssh``, ``/root``) counts as a whole.

Callers decide what follows: outside the workspace such a path is denied, inside (a
``.env`` in a checked-out repository) a person decides.
"""

from __future__ import annotations

import posixpath
import re
from fnmatch import fnmatchcase
from functools import lru_cache

from taskcraft.policy import lookalikes

_HOME_PREFIX = re.compile(r"^(~[^/]*|\$HOME|\$\{HOME\})(?=/|$)")
_GLOB = re.compile(r"[*?\[]")

# Absolute locations (component patterns): system credentials and other processes' secrets.
_SYSTEM = [
    ("/etc/shadow", "password hashes"),
    ("/etc/shadow-", "password hashes"),
    ("/etc/gshadow", "password hashes"),
    ("/etc/gshadow-", "password hashes"),
    ("/etc/master.passwd", "password hashes"),
    ("/etc/passwd", "the user database"),
    ("/etc/sudoers", "sudo rules"),
    ("/etc/sudoers.d", "sudo rules"),
    ("/etc/security/opasswd", "old password hashes"),
    ("/etc/ssl/private", "TLS private keys"),
    ("/etc/ssh/ssh_host_*_key", "the host's SSH keys"),
    ("/etc/krb5.keytab", "Kerberos keys"),
    ("/root", "root's home directory"),
    ("/proc/*/environ", "another process's environment"),
    ("/proc/*/mem", "another process's memory"),
    ("/proc/*/task/*/environ", "another process's environment"),
    ("/proc/kcore", "kernel memory"),
    ("/dev/mem", "physical memory"),
    ("/dev/kmem", "kernel memory"),
    ("/var/run/secrets", "mounted service-account secrets"),
    ("/run/secrets", "mounted secrets"),
    *(
        (f"/dev/{disk}*", "a raw disk")
        for disk in ("sd", "hd", "vd", "xvd", "nvme", "mmcblk", "disk", "md", "dm-", "loop")
    ),
    ("/dev/mapper", "a raw disk"),
]
# Folders under any directory (a home, usually) that hold credentials as a whole.
_SECRET_DIRS = {
    ".ssh": "SSH keys",
    ".gnupg": "GnuPG keys",
    ".aws": "AWS credentials",
    ".azure": "Azure credentials",
    ".kube": "Kubernetes credentials",
    ".password-store": "a password store",
    "keyrings": "a keyring",
    "keychains": "a keychain",
}
# Nested folders that hold credentials (matched as consecutive components).
_SECRET_SUBDIRS = {
    (".config", "gcloud"): "Google Cloud credentials",
    (".config", "gh"): "GitHub CLI tokens",
    (".docker", "config.json"): "registry credentials",
    (".terraform.d", "credentials.tfrc.json"): "Terraform tokens",
}
# File names (patterns) that hold credentials wherever they are.
_SECRET_FILES = {
    "id_rsa*": "an SSH private key",
    "id_dsa*": "an SSH private key",
    "id_ecdsa*": "an SSH private key",
    "id_ed25519*": "an SSH private key",
    "*.pem": "a private key or certificate",
    "*.key": "a private key",
    "*.p12": "a key store",
    "*.pfx": "a key store",
    "*.jks": "a key store",
    "*.keystore": "a key store",
    ".env": "environment secrets",
    ".env.*": "environment secrets",
    ".netrc": "login credentials",
    ".pgpass": "database passwords",
    ".git-credentials": "git credentials",
    ".npmrc": "registry tokens",
    ".pypirc": "registry tokens",
    ".vault-token": "a Vault token",
    ".htpasswd": "password hashes",
    ".bash_history": "shell history",
    ".zsh_history": "shell history",
    ".sh_history": "shell history",
    ".python_history": "interpreter history",
    ".psql_history": "database history",
    ".mysql_history": "database history",
    "credentials": "credentials",
    "credentials.json": "credentials",
}
_NOT_SECRET = ("*.pub",)  # public halves of key pairs


@lru_cache(maxsize=4096)  # pure; the same path is asked about by several checks
def secret_location(path: str) -> str | None:
    """What kind of secret ``path`` may reach (e.g. "SSH keys"), or None."""
    found = _components(path)
    if found is None:
        return None
    parts, climbed = found
    if climbed:  # ../../../etc/shadow reaches /etc/shadow from anywhere deep enough
        parts = ["/", *parts]
    if parts and parts[0] == "/":
        for pattern, kind in _SYSTEM:
            if _prefix_match(pattern.split("/")[1:], parts[1:]):
                return kind
    names = [part for part in parts if part not in ("/", "~")]
    for index, name in enumerate(names):
        for (first, second), kind in _SECRET_SUBDIRS.items():
            if _named(first, name) and index + 1 < len(names) and _named(second, names[index + 1]):
                return kind
        for secret_dir, kind in _SECRET_DIRS.items():
            if _named(secret_dir, name):
                return kind
    if names:
        last = names[-1]
        if any(fnmatchcase(last, pattern) for pattern in _NOT_SECRET):
            return None
        for pattern, kind in _SECRET_FILES.items():
            if fnmatchcase(last, pattern) or (_specific_glob(last) and _could_be(last, pattern)):
                return kind
    return None


def _components(path: str) -> tuple[list[str], bool] | None:
    """Lower-cased components ("/" first when absolute, "~" for a home directory), and
    whether a relative path climbs above where it starts."""
    text = lookalikes.skeleton(path).strip().lower()
    if not text:
        return None
    head: list[str] = []
    home = _HOME_PREFIX.match(text)
    if home:
        head, text = ["~"], text[home.end() :]
    elif text.startswith("/"):
        head = ["/"]
    resolved: list[str] = []
    climbed = False
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and resolved:
            resolved.pop()
        elif part == "..":
            climbed = climbed or not head
        else:
            resolved.append(part)
    return head + resolved, climbed


def _prefix_match(pattern: list[str], parts: list[str]) -> bool:
    """``parts`` is ``pattern`` or below it; either side's globs may match the other."""
    if len(parts) < len(pattern):
        return False
    return all(_same(want, got) for want, got in zip(pattern, parts, strict=False))


def _named(want: str, got: str) -> bool:
    """``got`` is the secret name ``want``, or a glob specific enough to aim at it (``.ss?``)."""
    return fnmatchcase(got, want) or (_specific_glob(got) and fnmatchcase(want, got))


def _specific_glob(component: str) -> bool:
    """A glob with at least two literal characters: ``.*`` or ``*`` aim at nothing in particular."""
    return (
        bool(_GLOB.search(component))
        and len(_GLOB.sub("", re.sub(r"\[[^]]*\]", "?", component))) >= 2
    )


def _same(want: str, got: str) -> bool:
    return fnmatchcase(got, want) or (bool(_GLOB.search(got)) and fnmatchcase(want, got))


def _could_be(glob: str, pattern: str) -> bool:
    """Whether ``glob`` aims at names ``pattern`` matches (approximate).

    A secret *name* (``credentials.json``) counts only when the glob spells at least half
    of it (``cred*.json``, not ``*.json``); a secret *pattern* (``id_rsa*``, ``*.pem``)
    counts when an example of it matches the glob.
    """
    if "*" not in pattern:
        literal = len(_GLOB.sub("", re.sub(r"\[[^]]*\]", "?", glob)))
        return fnmatchcase(pattern, glob) and 2 * literal >= len(pattern)
    example = pattern.replace("*", "x")
    return fnmatchcase(example, glob) or fnmatchcase(pattern.replace("*", ""), glob)


def normalise_home(path: str) -> str:
    """``$HOME/x`` and ``${HOME}/x`` written as ``~/x`` (for display)."""
    return posixpath.normpath(_HOME_PREFIX.sub("~", path)) if path else path
