"""Reading the arguments of one command: operands, option values, paths it may touch.

``ArgSpec`` describes a program's options well enough to tell which words are paths and
which are text (a pattern, a format, a program for awk or jq). Unknown options are read
as taking no value, so their would-be value is judged as a path: a mistake there only
ever makes a command look *less* harmless.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import NamedTuple

from taskcraft.policy import paths
from taskcraft.policy.shell_programs import SAFE_DEVICES
from taskcraft.policy.shell_syntax import LITERAL_DOLLAR, PLACEHOLDER, WRITE_REDIRECTIONS

_BRACE_EXPANSION = re.compile(r"\{[^{}]*(,|\.\.)[^{}]*\}")
_FD_NUMBER = re.compile(r"[0-9]*-?")
PATH, TEXT = "path", "text"


@dataclass(frozen=True)
class ArgSpec:
    values: str = ""  # short options that take a value ("n" for head -n 5)
    long_values: tuple[str, ...] = ()  # long options that take a value
    path_options: str = ""  # short options whose value is a file it reads
    long_path_options: tuple[str, ...] = ()
    text_operands: int = 0  # leading operands that are text (grep's pattern, awk's program)
    no_text_operand_with: str = ""  # short options that supply that text instead (-e, -f)
    long_no_text_operand_with: tuple[str, ...] = ()
    all_text: bool = False  # operands are text, never paths (echo, printf)
    max_operands: int | None = None  # more would be an output file (uniq in out)
    forbidden: tuple[str, ...] = ()  # options that make it write or run something


PLAIN = ArgSpec()


class Role(NamedTuple):
    word: str
    role: str  # PATH or TEXT
    operand: bool  # an operand, not an option's value


def roles(words: tuple[str, ...], spec: ArgSpec) -> list[Role]:
    """The role of every operand and option value after the program name."""
    found: list[Role] = []
    operands: list[str] = []
    skip_text = False
    index, options_ended = 1, False
    while index < len(words):
        word = words[index]
        index += 1
        if options_ended or word == "-" or not word.startswith("-") or len(word) == 1:
            operands.append(word)
        elif word == "--":
            options_ended = True
        elif word.startswith("--"):
            name, has_value, value = word.partition("=")
            takes = _long_match(name, spec.long_values + spec.long_path_options)
            if _long_match(name, spec.long_no_text_operand_with):
                skip_text = True
            role = PATH if _long_match(name, spec.long_path_options) else TEXT
            if has_value:
                found.append(Role(value, role if takes else PATH, False))
            elif takes and index < len(words):
                found.append(Role(words[index], role, False))
                index += 1
        else:
            for position, letter in enumerate(word[1:], start=1):
                if letter in spec.no_text_operand_with:
                    skip_text = True
                if letter in spec.values + spec.path_options:
                    role = PATH if letter in spec.path_options else TEXT
                    rest = word[position + 1 :]
                    if rest:
                        found.append(Role(rest, role, False))
                    elif index < len(words):
                        found.append(Role(words[index], role, False))
                        index += 1
                    break
    text_count = 0 if skip_text else spec.text_operands
    for position, operand in enumerate(operands):
        text = spec.all_text or position < text_count
        found.append(Role(operand, TEXT if text else PATH, True))
    return found


def operand_count(words: tuple[str, ...], spec: ArgSpec) -> int:
    """How many operands (not options, not option values) ``words`` has."""
    return _count_operands(words, spec)


def _count_operands(words: tuple[str, ...], spec: ArgSpec) -> int:
    count, index, ended = 0, 1, False
    takes = spec.values + spec.path_options
    long_takes = spec.long_values + spec.long_path_options
    while index < len(words):
        word = words[index]
        index += 1
        if ended or word == "-" or not word.startswith("-") or len(word) == 1:
            count += 1
        elif word == "--":
            ended = True
        elif word.startswith("--"):
            if "=" not in word and _long_match(word, long_takes):
                index += 1
        else:
            for position, letter in enumerate(word[1:], start=1):
                if letter in takes:
                    if not word[position + 1 :]:
                        index += 1
                    break
    return count


def _long_match(name: str, options: tuple[str, ...]) -> bool:
    """GNU accepts any unambiguous prefix of a long option; we accept any prefix of 3+."""
    return any(name == option or (len(name) > 3 and option.startswith(name)) for option in options)


def writes_file(operator: str, target: str) -> bool:
    if operator not in WRITE_REDIRECTIONS or target in SAFE_DEVICES:
        return False
    return not (operator == ">&" and _FD_NUMBER.fullmatch(target))


def outside(word: str, root: str | None = None) -> bool:
    """May name a path outside the workspace; variables and globs might, and so may any
    alternative of a brace expansion (``{..,.}``)."""
    if word in SAFE_DEVICES or word == "{}":  # ``{}``: find's and xargs' placeholder
        return False
    if "$" in word or "`" in word:
        return True
    if _BRACE_EXPANSION.search(word):
        alternatives = expand_braces(word)
        return alternatives is None or any(outside(a, root) for a in alternatives)
    literal = word.replace(LITERAL_DOLLAR, "_")
    if paths.is_outside_workspace(literal, root):
        return True
    return any(map(_may_glob_to_parent, literal.split("/")))


_BRACES = re.compile(r"\{([^{}]*)\}")
_RANGE = re.compile(r"(-?\d+)\.\.(-?\d+)|([A-Za-z])\.\.([A-Za-z])")
MAX_ALTERNATIVES = 64


def expand_braces(word: str) -> list[str] | None:
    """Every word bash's brace expansion makes of ``word`` (None: too many to check)."""
    match = next(
        (m for m in _BRACES.finditer(word) if "," in m.group(1) or _RANGE.fullmatch(m.group(1))),
        None,
    )
    if match is None:
        return [word]
    inner = match.group(1)
    numbers = _RANGE.fullmatch(inner)
    if numbers and numbers.group(1) is not None:
        low, high = sorted((int(numbers.group(1)), int(numbers.group(2))))
        parts = [str(n) for n in range(low, min(high, low + MAX_ALTERNATIVES) + 1)]
    elif numbers:
        low_char, high_char = sorted((numbers.group(3), numbers.group(4)))
        parts = [chr(c) for c in range(ord(low_char), ord(high_char) + 1)]
    else:
        parts = inner.split(",")
    words: list[str] = []
    for part in parts:
        more = expand_braces(word[: match.start()] + part + word[match.end() :])
        if more is None or len(words) + len(more) > MAX_ALTERNATIVES:
            return None
        words += more
    return words


def _may_glob_to_parent(component: str) -> bool:
    """``.*`` or ``.?`` may expand to ``..`` (sh does not skip it as bash 5.2 does)."""
    return (
        component.startswith(".")
        and any(c in component for c in "*?[")
        and fnmatchcase("..", component)
    )


def operands(view: tuple[str, ...]) -> list[str]:
    """Non-option arguments, plus the values of ``--option=value`` arguments."""
    found: list[str] = []
    options_ended = False
    for word in view[1:]:
        if options_ended or word == "-" or not word.startswith("-"):
            found.append(word)
        elif word == "--":
            options_ended = True
        elif word.startswith("--") and "=" in word:
            found.append(word.split("=", 1)[1])
    return found


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
    """The word, and the paths it may carry (``--x=/p``, ``-f/p``, ``@/p``, ``host:/p``)."""
    candidates = [word]
    if word.startswith("-"):
        if "=" in word:
            candidates.append(word.split("=", 1)[1])
        if "/" in word:
            candidates.append(word[word.index("/") :])
    for marker in ("=@", "=<", "@", "<", "="):
        if marker in word:
            candidates.append(word.split(marker, 1)[1])
    if word.lower().startswith("file://"):  # curl file:///etc/shadow reads a local file
        candidates.append(word[7:])
    return list(dict.fromkeys(candidate for candidate in candidates if candidate))


def has_placeholder(word: str) -> bool:
    return bool(PLACEHOLDER.search(word))
