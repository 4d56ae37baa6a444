"""Conditions on a tool call's arguments: the ``when`` part of a rule.

A condition names one argument (``arg``) and one or more tests, and holds when every test
holds. A condition on an argument the call does not pass does not hold, so a rule for
``tool = "*"`` with ``arg = "path"`` leaves tools without a ``path`` alone.

Instead of ``arg``, a condition may name a ``kind`` ("workspace_path", "url", "shell",
"sql"): it then holds when the tests hold for *any* argument the tool declares to be of
that kind (``@tool(arg_kinds=...)``), whatever it is called. Deny rules written that way
govern tools the policy has never heard of; put them before the rules that allow. Values are
compared as the JSON types they are: ``"1"`` is not ``1`` and ``true`` is not ``1``.

Tests:
  equals / in / not_in   equality with a string, number or boolean, or membership in a list
  matches                a regular expression found *anywhere* in a string value
                         (``re.search``; anchor with ``^`` and ``$`` to match the whole value;
                         ``.`` does not cross newlines); ``ignore_case = true`` to ignore case
  gt / ge / lt / le      numeric bounds (a value that is not a number fails them)
  host_in / host_not_in  the host of an http(s) URL is (not) in a list; ``*.example.com``
                         matches subdomains but never a private host (see ``urls``); a URL
                         that is not plain http(s) is never "in"
  host_is_private        the URL's host may be on the worker's machine or network
  path_outside_workspace lexical check of a path (see ``paths``), against the workspace
                         root when the caller knows it (``PolicyContext``)
  shell_is_destructive, shell_pipes_download_to_shell, shell_reads_secrets,
  shell_sends_data_out, shell_runs_hidden_code, shell_is_read_only         (see ``shell``)
  sql_is_write, sql_is_destructive                                         (see ``sql``)

The classifiers take ``true`` or ``false``. A value they cannot analyse (not a string,
does not parse) counts as outside, private, destructive, a write and not read-only, so
both ``= true`` and ``= false`` rules fail closed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from taskcraft.policy import paths, shell, urls
from taskcraft.policy.context import NO_CONTEXT, PolicyContext
from taskcraft.policy.finding import Finding
from taskcraft.policy.sql import SqlSyntaxError, classify_sql

Scalar = str | int | float | bool
Classifier = Callable[[str, PolicyContext], Finding]
_CLASSIFIERS: dict[str, Classifier] = {
    "shell_is_destructive": shell.is_destructive,
    "shell_pipes_download_to_shell": shell.pipes_download_to_shell,
    "shell_reads_secrets": shell.reads_secrets,
    "shell_sends_data_out": shell.sends_data_out,
    "shell_runs_hidden_code": shell.runs_hidden_code,
    "shell_is_read_only": shell.is_read_only,
    "path_outside_workspace": lambda path, context: _path_finding(path, context),
    "sql_is_write": lambda sql, _: _sql_finding(sql, destructive=False),
    "sql_is_destructive": lambda sql, _: _sql_finding(sql, destructive=True),
    "host_is_private": lambda url, _: _private_finding(url),
}
# What each classifier parses its argument as, for the view an approver sees.
ANALYSIS_KIND = {
    **{name: "shell" for name in _CLASSIFIERS if name.startswith("shell_")},
    **{name: "sql" for name in _CLASSIFIERS if name.startswith("sql_")},
    "path_outside_workspace": "path",
    "host_is_private": "url",
}
_SYMBOLS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_FAIL_CLOSED = {name: name != "shell_is_read_only" for name in _CLASSIFIERS}
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda value, bound: value > bound,
    "ge": lambda value, bound: value >= bound,
    "lt": lambda value, bound: value < bound,
    "le": lambda value, bound: value <= bound,
}


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    arg: str | None = Field(default=None, min_length=1)
    kind: str | None = Field(default=None, min_length=1)
    equals: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    not_in: list[Scalar] | None = None
    matches: str | None = None
    ignore_case: bool = False
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    host_in: list[str] | None = None
    host_not_in: list[str] | None = None
    path_outside_workspace: bool | None = None
    shell_is_destructive: bool | None = None
    shell_pipes_download_to_shell: bool | None = None
    shell_reads_secrets: bool | None = None
    shell_sends_data_out: bool | None = None
    shell_runs_hidden_code: bool | None = None
    shell_is_read_only: bool | None = None
    sql_is_write: bool | None = None
    sql_is_destructive: bool | None = None
    host_is_private: bool | None = None

    @field_validator("equals", mode="before")
    @classmethod
    def _scalar(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, Scalar):
            raise PydanticCustomError("scalar", "expected a string, number or boolean")
        return value

    @field_validator("in_", "not_in", mode="before")
    @classmethod
    def _scalars(cls, value: Any) -> Any:
        if isinstance(value, list) and not all(isinstance(item, Scalar) for item in value):
            raise PydanticCustomError("scalars", "expected a list of strings, numbers or booleans")
        return value

    @field_validator("matches")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as error:
                raise PydanticCustomError(
                    "regex",
                    "invalid regular expression /{pattern}/: {error}",
                    {"pattern": pattern, "error": str(error)},
                ) from None
        return pattern

    @field_validator("host_in", "host_not_in")
    @classmethod
    def _hosts(cls, hosts: list[str] | None) -> list[str] | None:
        if hosts is None:
            return None
        normalised = [urls.normalise_host_pattern(host) for host in hosts]
        bad = [host for host, norm in zip(hosts, normalised, strict=True) if norm is None]
        if bad:
            raise PydanticCustomError(
                "host", "not a host name or *.domain pattern: {bad}", {"bad": ", ".join(bad)}
            )
        return [host for host in normalised if host is not None]

    @model_validator(mode="after")
    def _one_subject(self) -> Condition:
        if (self.arg is None) == (self.kind is None):
            raise PydanticCustomError(
                "subject", "a condition names exactly one of arg (a name) or kind (what it is)"
            )
        return self

    @model_validator(mode="after")
    def _has_a_test(self) -> Condition:
        if self.ignore_case and self.matches is None:
            raise PydanticCustomError("ignore_case", "ignore_case only applies to matches")
        if not self._tests():
            raise PydanticCustomError("no_test", "a condition needs at least one test besides arg")
        return self

    def arg_names(self, arguments: Mapping[str, Any], context: PolicyContext) -> list[str]:
        """The arguments this condition looks at in this call."""
        if self.arg is not None:
            return [self.arg] if self.arg in arguments else []
        return [
            n for n, k in sorted(context.arg_kinds.items()) if k == self.kind and n in arguments
        ]

    def check(self, arguments: Mapping[str, Any], context: PolicyContext = NO_CONTEXT) -> Finding:
        """Whether the condition holds for these arguments, and why (for explanations)."""
        names = self.arg_names(arguments, context)
        if not names:
            subject = self.arg if self.arg is not None else f"no {self.kind} argument"
            return Finding(False, f"{subject}: not given" if self.arg else subject)
        finding = Finding(False, "")
        for name in names:
            finding = self._check_one(name, arguments[name], context)
            if finding.holds:
                return finding
        return finding

    def _check_one(self, name: str, value: Any, context: PolicyContext) -> Finding:
        reasons: list[str] = []
        for test in self._tests():
            finding = test(value, context)
            if not finding.holds:
                return Finding(False, f"{name}: {finding.why}")
            reasons.append(finding.why)
        return Finding(True, f"{name}: " + "; ".join(reasons))

    def analyses(self) -> list[str]:
        """What this condition parses its argument as: "shell", "sql", "path" or "url"."""
        kinds = [kind for name, kind in ANALYSIS_KIND.items() if getattr(self, name) is not None]
        if self.host_in is not None or self.host_not_in is not None:
            kinds.append("url")
        return list(dict.fromkeys(kinds))

    def named_hosts(
        self, arguments: Mapping[str, Any], context: PolicyContext = NO_CONTEXT
    ) -> list[str]:
        """The call's hosts this condition lists exactly (not through a wildcard)."""
        if self.host_in is None:
            return []
        found = []
        for name in self.arg_names(arguments, context):
            value = arguments.get(name)
            host = urls.url_host(value) if isinstance(value, str) else None
            if host is not None and host in self.host_in:
                found.append(host)
        return found

    def _tests(self) -> list[Test]:
        tests: list[Callable[[Any], Finding]] = []
        if self.equals is not None:
            tests.append(partial(_membership, allowed=[self.equals], words="equal to"))
        if self.in_ is not None:
            tests.append(partial(_membership, allowed=self.in_, words="one of"))
        if self.not_in is not None:
            tests.append(_inverted(partial(_membership, allowed=self.not_in, words="one of")))
        if self.matches is not None:
            tests.append(partial(_match, pattern=self.matches, ignore_case=self.ignore_case))
        for name, compare in _COMPARISONS.items():
            bound = getattr(self, name)
            if bound is not None:
                tests.append(partial(_bound, compare=compare, bound=bound, name=name))
        if self.host_in is not None:
            tests.append(partial(_host, allowed=self.host_in))
        if self.host_not_in is not None:
            tests.append(_inverted(partial(_host, allowed=self.host_not_in)))
        with_context: list[Test] = [_ignoring_context(test) for test in tests]
        for name, classify in _CLASSIFIERS.items():
            expected = getattr(self, name)
            if expected is not None:
                with_context.append(
                    partial(_classified, classify=classify, expected=expected, name=name)
                )
        return with_context


Test = Callable[[Any, PolicyContext], Finding]


def _ignoring_context(test: Callable[[Any], Finding]) -> Test:
    return lambda value, _: test(value)


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return bool(left == right)


def _membership(value: Any, allowed: list[Scalar], words: str) -> Finding:
    found = any(_same(value, item) for item in allowed)
    shown = allowed[0] if len(allowed) == 1 else allowed
    return Finding(found, f"{'is' if found else 'is not'} {words} {shown!r}")


def _inverted(test: Callable[[Any], Finding]) -> Callable[[Any], Finding]:
    def inverted(value: Any) -> Finding:
        finding = test(value)
        return Finding(not finding.holds, finding.why)

    return inverted


def _match(value: Any, pattern: str, ignore_case: bool) -> Finding:
    if not isinstance(value, str):
        return Finding(False, "is not a string")
    found = re.search(pattern, value, re.IGNORECASE if ignore_case else 0) is not None
    return Finding(found, f"{'matches' if found else 'does not match'} /{pattern}/")


def _bound(value: Any, compare: Callable[[float, float], bool], bound: float, name: str) -> Finding:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Finding(False, "is not a number")
    holds = compare(value, bound)
    shown = int(bound) if bound.is_integer() else bound
    return Finding(holds, f"{value} {'is' if holds else 'is not'} {_SYMBOLS[name]} {shown}")


def _host(value: Any, allowed: list[str]) -> Finding:
    host = urls.url_host(value) if isinstance(value, str) else None
    if host is None:
        return Finding(False, "is not a plain http(s) URL (user info, odd characters, bad port)")
    found = urls.host_matches(host, allowed)
    return Finding(found, f"host {host} is {'' if found else 'not '}in the list")


def _classified(
    value: Any, context: PolicyContext, classify: Classifier, expected: bool, name: str
) -> Finding:
    if isinstance(value, str):
        finding = classify(value, context)
    else:
        finding = Finding(_FAIL_CLOSED[name], "not a string")
    verdict = "true" if finding.holds else "false"
    return Finding(finding.holds == expected, f"{name} is {verdict} ({finding.why})")


def _path_finding(path: str, context: PolicyContext) -> Finding:
    why = paths.why_outside(path, context.workspace_root)
    if why is None:
        return Finding(False, "inside the workspace")
    return Finding(True, why)


def _private_finding(url: str) -> Finding:
    parts = urls.split_host(url)
    if parts is None:
        return Finding(True, "not a URL whose host can be read")
    why = urls.private_host(parts)
    return Finding(why is not None, why or f"{parts} is a public host")


def _sql_finding(sql: str, *, destructive: bool) -> Finding:
    try:
        verdict = classify_sql(sql)
    except SqlSyntaxError as error:
        return Finding(True, f"cannot be parsed ({error})")
    if destructive:
        return Finding(
            verdict.destructive is not None, verdict.destructive or "nothing destructive"
        )
    return Finding(verdict.is_write, "statements: " + ", ".join(verdict.keywords))
