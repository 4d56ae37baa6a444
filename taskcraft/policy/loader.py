"""Reading policy files (TOML) and finding them by name.

Every problem in a file is reported on its own line, naming the file, the line when it
can be found, the key path and the rule, for example::

    policies/x.toml:14: rules[2].effect (rule 'no-rm'): Input should be 'allow', 'deny' or 'require_approval'

A file may extend another policy: ``extends = "default"``. Its own rules are tried first,
then the base's (whose own base's after that); ``default_effect``, ``default_reason`` and
``description`` come from the file when it gives them, else from the base. The base is
found by name in the file's own folder, then the search folders, then the shipped ones,
skipping the file itself (so a ``default.toml`` of your own may extend the shipped
``default``). The result is one flat ``Policy``: a pinned task and its content hash see
exactly the rules that apply. An unknown base, a cycle, or a rule id the base already
uses is one ``file:line:`` error.

Nothing here runs at import time; the functions read files only when called, so the
workflow side can import this package freely.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from taskcraft.errors import PolicyFileError
from taskcraft.policy.schema import Policy

POLICY_SUFFIX = ".toml"
_POLICY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*")
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_RULES_HEADER = re.compile(r"\s*\[\[\s*rules\s*\]\]")
_TABLE_HEADER = re.compile(r"\s*\[\s*\[?\s*([A-Za-z0-9_.\s\"]+?)\s*\]")


def builtin_policy_dir() -> Path:
    """Where the policies shipped with taskcraft live (``default``, ``strict``)."""
    return Path(__file__).parent.parent / "policies"


def resolve_policy(
    name: str, search_dirs: Iterable[str | Path] = (), *, include_builtin: bool = True
) -> Path:
    """The file ``<name>.toml`` in the first of ``search_dirs`` holding one, then the built-ins."""
    if not _POLICY_NAME.fullmatch(name):
        raise PolicyFileError(
            f"{name!r} is not a policy name: use letters, digits, '-', '_' and '.', "
            "and no path (policies are found by name in the policy directories)"
        )
    dirs = [Path(directory) for directory in search_dirs]
    if include_builtin:
        dirs.append(builtin_policy_dir())
    for directory in dirs:
        candidate = directory / f"{name}{POLICY_SUFFIX}"
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(directory) for directory in dirs) or "no directories"
    raise PolicyFileError(f"no policy named {name!r}: looked for {name}{POLICY_SUFFIX} in {looked}")


def load_named_policy(name: str, search_dirs: Iterable[str | Path] = ()) -> Policy:
    dirs = [Path(directory) for directory in search_dirs]
    return load_policy(resolve_policy(name, dirs), search_dirs=dirs)


def load_policy(path: str | Path, *, search_dirs: Iterable[str | Path] = ()) -> Policy:
    """Read and validate one policy file; raises ``PolicyFileError`` listing every problem.

    ``search_dirs`` are where a base named by ``extends`` is looked for, after the file's
    own folder and before the shipped policies.
    """
    return _load(Path(path), [Path(directory) for directory in search_dirs], ())


def _load(path: Path, search_dirs: list[Path], chain: tuple[Path, ...]) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyFileError(f"{path}: no such policy file") from None
    except UnicodeDecodeError as error:
        raise PolicyFileError(f"{path}: not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise PolicyFileError(f"{path}: cannot be read ({error.strerror or error})") from None
    return _validate(text, str(path), search_dirs, (*chain, path))


def load_policy_text(
    text: str, source_name: str = "<policy>", *, search_dirs: Iterable[str | Path] = ()
) -> Policy:
    """Validate policy TOML ``text``; ``source_name`` prefixes every error line.

    A file must say ``default_effect`` explicitly (an omitted default would silently allow
    every call no rule covers) unless it ``extends`` a base; ``name`` defaults to the file
    name without ``.toml``.
    """
    return _validate(text, source_name, [Path(d) for d in search_dirs], ())


def _validate(
    text: str, source_name: str, search_dirs: list[Path], chain: tuple[Path, ...]
) -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        position = _TOML_POSITION.search(message)
        if position:
            line, column = position.groups()
            message = _TOML_POSITION.sub("", message)
            raise PolicyFileError(
                f"{source_name}:{line}:{column}: invalid TOML: {message}"
            ) from None
        raise PolicyFileError(f"{source_name}: invalid TOML: {message}") from None
    problems: list[str] = []
    base = _base(data, text, source_name, search_dirs, chain)
    if base is not None:
        data.setdefault("default_effect", base.default_effect.value)
    if "default_effect" not in data:
        problems.append(
            f"{source_name}: default_effect: missing; say what happens to calls no rule "
            "matches: 'allow', 'deny' or 'require_approval'"
        )
    if source_name.endswith(POLICY_SUFFIX):
        data.setdefault("name", Path(source_name).stem)
    described = [_duplicate_id(index, data, text, source_name) for index in _duplicates(data)]
    try:
        policy = Policy.model_validate(data)
    except ValidationError as error:
        described += [
            _describe(item, data, text, source_name)
            for item in error.errors()
            if item["type"] != "duplicate_rule_id"  # reported above, with its line
        ]
    else:
        if base is not None:
            described += _clashes(policy, base, text, source_name)
    problems.extend(message for _, message in sorted(described, key=lambda pair: pair[0]))
    if problems:
        raise PolicyFileError("\n".join(problems))
    return policy if base is None else _flatten(policy, base, data)


def _base(
    data: dict[str, Any], text: str, source: str, search_dirs: list[Path], chain: tuple[Path, ...]
) -> Policy | None:
    """The flattened policy ``data`` extends, or None; removes ``extends`` from ``data``."""
    if "extends" not in data:
        return None
    name = data.pop("extends")
    line = _find_key(text.splitlines(), 0, _top_level_end(text.splitlines()), "extends")
    where = f"{source}:{line}" if line else source
    if not isinstance(name, str) or not _POLICY_NAME.fullmatch(name):
        raise PolicyFileError(f"{where}: extends: {name!r} is not a policy name")
    own = chain[-1] if chain else None
    folders = ([own.parent] if own else []) + search_dirs + [builtin_policy_dir()]
    candidates = [folder / f"{name}{POLICY_SUFFIX}" for folder in folders]
    found = [c for c in candidates if c.is_file() and (own is None or not c.samefile(own))]
    if not found:
        looked = ", ".join(str(folder) for folder in folders)
        raise PolicyFileError(f"{where}: extends: no policy named {name!r} (looked in {looked})")
    resolved = [path.resolve() for path in chain]
    if found[0].resolve() in resolved:
        cycle = " -> ".join(
            p.name for p in (*chain[resolved.index(found[0].resolve()) :], found[0])
        )
        raise PolicyFileError(f"{where}: extends: a cycle: {cycle}")
    return _load(found[0], search_dirs, chain)


def _clashes(policy: Policy, base: Policy, text: str, source: str) -> list[tuple[int, str]]:
    """A rule id the file shares with its base: refused, so every flat rule has its own id."""
    inherited = {rule.id for rule in base.rules}
    clashes: list[tuple[int, str]] = []
    for index, rule in enumerate(policy.rules):
        if rule.id in inherited:
            line = _line_of(text, ("rules", index, "id")) or 0
            where = f"{source}:{line}" if line else source
            clashes.append(
                (
                    line,
                    f"{where}: rules[{index}].id (rule {rule.id!r}): the base policy "
                    f"{base.name!r} already has a rule {rule.id!r}; pick another id",
                )
            )
    return clashes


def _flatten(policy: Policy, base: Policy, data: dict[str, Any]) -> Policy:
    """The file's rules, then the base's; its defaults where it gives them, else the base's."""
    same_default = policy.default_effect is base.default_effect
    reason = policy.default_reason or (base.default_reason if same_default else "")
    return Policy(
        name=policy.name,
        description=policy.description or base.description,
        default_effect=policy.default_effect,
        default_reason=reason if "default_reason" not in data else policy.default_reason,
        rules=[*policy.rules, *base.rules],
    )


def _duplicates(data: dict[str, Any]) -> list[int]:
    """Indexes of rules whose id an earlier rule already uses, read from the raw TOML."""
    rules = data.get("rules")
    if not isinstance(rules, list):
        return []
    seen: set[str] = set()
    again: list[int] = []
    for index, rule in enumerate(rules):
        rule_id = rule.get("id") if isinstance(rule, dict) else None
        if isinstance(rule_id, str):
            if rule_id in seen:
                again.append(index)
            seen.add(rule_id)
    return again


def _duplicate_id(index: int, data: dict[str, Any], text: str, source: str) -> tuple[int, str]:
    """``file:line: rules: ...`` at the ``id`` of the rule that repeats an earlier id."""
    rules: list[Any] = data["rules"]
    rule_id = rules[index]["id"]
    first = next(
        n for n, rule in enumerate(rules) if isinstance(rule, dict) and rule.get("id") == rule_id
    )
    line = _line_of(text, ("rules", index, "id")) or 0
    where = f"{source}:{line}" if line else source
    return line, (
        f"{where}: rules: rule id {rule_id!r} is used by rules[{first}] and rules[{index}]; "
        "ids must be unique"
    )


def _describe(item: Any, data: dict[str, Any], text: str, source: str) -> tuple[int, str]:
    """The line (0 when unknown) and the message for one validation error."""
    loc: tuple[int | str, ...] = tuple(item["loc"])
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    key = key.removeprefix(".") or "(top level)"
    rule = _rule_id(data, loc)
    if rule:
        key += f" (rule {rule!r})"
    line = _line_of(text, loc)
    where = f"{source}:{line}" if line else source
    return line or 0, f"{where}: {key}: {item['msg']}"


def _rule_id(data: dict[str, Any], loc: tuple[int | str, ...]) -> str | None:
    if len(loc) < 2 or loc[0] != "rules" or not isinstance(loc[1], int):
        return None
    rules = data.get("rules")
    if not isinstance(rules, list) or loc[1] >= len(rules) or not isinstance(rules[loc[1]], dict):
        return None
    rule_id = rules[loc[1]].get("id")
    return rule_id if isinstance(rule_id, str) else None


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """Best effort: the line of a top-level key, or of a key inside the n-th ``[[rules]]``."""
    lines = text.splitlines()
    keys = [part for part in loc if isinstance(part, str)]
    if not keys:
        return None
    if loc[0] != "rules" or len(loc) < 2 or not isinstance(loc[1], int):
        return _find_key(lines, 0, _top_level_end(lines), keys[-1])
    headers = [number for number, line in enumerate(lines) if _RULES_HEADER.match(line)]
    if loc[1] >= len(headers):
        return None
    start = headers[loc[1]]
    end = next((n for n in range(start + 1, len(lines)) if _leaves_rule(lines[n])), len(lines))
    found = _find_key(lines, start, end, keys[-1]) if len(keys) > 1 else None
    return found or start + 1


def _find_key(lines: list[str], start: int, end: int, key: str) -> int | None:
    pattern = re.compile(rf"(^|[{{,\s]){re.escape(key)}\s*=")
    return next((n + 1 for n in range(start, end) if pattern.search(lines[n])), None)


def _top_level_end(lines: list[str]) -> int:
    return next((n for n, line in enumerate(lines) if _TABLE_HEADER.match(line)), len(lines))


def _leaves_rule(line: str) -> bool:
    header = _TABLE_HEADER.match(line)
    return header is not None and not header.group(1).replace(" ", "").startswith("rules.")
