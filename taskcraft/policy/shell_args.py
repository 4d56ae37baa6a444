"""Reading the arguments of one command: operands, option values, paths it may touch."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from taskcraft.policy import paths
from taskcraft.policy.shell_programs import SAFE_DEVICES
from taskcraft.policy.shell_syntax import WRITE_REDIRECTIONS

_BRACE_EXPANSION = re.compile(r"\{[^{}]*(,|\.\.)[^{}]*\}")
_FD_NUMBER = re.compile(r"[0-9]*-?")


def writes_file(operator: str, target: str) -> bool:
    if operator not in WRITE_REDIRECTIONS or target in SAFE_DEVICES:
        return False
    return not (operator == ">&" and _FD_NUMBER.fullmatch(target))


def outside(word: str) -> bool:
    """May name a path outside the workspace; variables, braces and globs might."""
    if word in SAFE_DEVICES or word == "{}":  # ``{}``: find's and xargs' placeholder
        return False
    if "$" in word or "`" in word or _BRACE_EXPANSION.search(word):
        return True
    return paths.is_outside_workspace(word) or any(map(_may_glob_to_parent, word.split("/")))


def _may_glob_to_parent(component: str) -> bool:
    """``.*`` or ``.?`` may expand to ``..`` (sh does not skip it as bash 5.2 does)."""
    return (
        component.startswith(".")
        and any(c in component for c in "*?[")
        and fnmatchcase("..", component)
    )


def operands(view: tuple[str, ...]) -> list[str]:
    """Non-option arguments, plus the values of ``--option=value`` arguments."""
    operands: list[str] = []
    options_ended = False
    for word in view[1:]:
        if options_ended or word == "-" or not word.startswith("-"):
            operands.append(word)
        elif word == "--":
            options_ended = True
        elif word.startswith("--") and "=" in word:
            operands.append(word.split("=", 1)[1])
    return operands


def option_values(view: tuple[str, ...], options: tuple[str, ...]) -> list[str]:
    """Values given to ``options``: ``-o X``, ``-oX``, ``-so X``, ``--out X``, ``--output=X``."""
    values: list[str] = []
    words = view[1:]
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        for option in options:
            if option.startswith("--"):
                name, has_value, value = word.partition("=")
                if len(name) > 3 and option.startswith(name):  # GNU accepts abbreviations
                    values.append(value if has_value else following)
            elif is_short_flag_with(word, option[1]):
                rest = word[word.index(option[1]) + 1 :]
                values.append(rest or following)
    return values


def forbidden_option(word: str, forbidden: tuple[str, ...], *, exact: bool) -> bool:
    for option in forbidden:
        if exact:
            if word == option:
                return True
        elif option.startswith("--"):
            name = word.split("=", 1)[0]
            if word.startswith(option) or (len(name) > 2 and option.startswith(name)):
                return True
        elif is_short_flag_with(word, option[1]):
            return True
    return False


def is_short_flag_with(word: str, letter: str) -> bool:
    return word.startswith("-") and not word.startswith("--") and letter in word[1:]


def edits_in_place(word: str) -> bool:
    return word.startswith("--in-place") or is_short_flag_with(word, "i")


def path_candidates(word: str) -> list[str]:
    """The word, and for an option the paths it may carry (``--x=/p``, ``-f/p``)."""
    candidates = [word]
    if word.startswith("-"):
        if "=" in word:
            candidates.append(word.split("=", 1)[1])
        if "/" in word:
            candidates.append(word[word.index("/") :])
    return candidates
