"""An agent's typed inputs: what ``taskcraft start AGENT --input k=v`` may pass, checked at the door.

Each input has a name, a type, and optionally a default, an enum or a pattern. Values
travel as text (they are part of the task's start arguments and of the model's system
message), normalised to one canonical spelling per type, so ``--input count=007`` and
``--input count=7`` start identical tasks. A bad value is refused before any task
exists, in one line that names the input and says what it expects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from taskcraft.errors import InvalidInputError

_INPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})
_ISO_WEEK = re.compile(r"(\d{4})-W(\d{2})")


class InputType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"  # YYYY-MM-DD
    DATETIME = "datetime"  # ISO 8601 with a time zone
    ISO_WEEK = "iso_week"  # YYYY-Www, a week that exists in that year


class InputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    type: InputType = InputType.STRING
    description: str = ""
    required: bool = False
    default: str | int | float | bool | None = None
    enum: list[str] = Field(default_factory=list)
    pattern: str | None = None  # a regular expression the whole value must match

    @field_validator("name")
    @classmethod
    def _name_shape(cls, name: str) -> str:
        if not _INPUT_NAME.match(name):
            raise ValueError(
                f"input name {name!r} must start with a letter or '_' and use letters, "
                "digits, '_' and '-'"
            )
        return name

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(
                    f"pattern {pattern!r} is not a regular expression: {error}"
                ) from None
        return pattern

    @model_validator(mode="after")
    def _default_fits(self) -> InputSpec:
        if self.required and self.default is not None:
            raise ValueError(f"input {self.name!r} is required, so it cannot have a default")
        if self.default is not None:
            try:
                self.normalise(_text(self.default))
            except InvalidInputError as error:
                raise ValueError(str(error)) from None
        if self.enum and self.type is not InputType.STRING:
            raise ValueError(f"input {self.name!r}: enum applies to string inputs only")
        return self

    def expects(self) -> str:
        """What a value must look like, for error messages and ``agents list``."""
        if self.enum:
            return "one of " + ", ".join(self.enum)
        if self.pattern:
            return f"text matching {self.pattern}"
        return {
            InputType.STRING: "text",
            InputType.INTEGER: "a whole number",
            InputType.NUMBER: "a number",
            InputType.BOOLEAN: "true or false",
            InputType.DATE: "a date like 2026-11-16",
            InputType.DATETIME: "a date and time with a zone, like 2026-11-16T09:00:00+00:00",
            InputType.ISO_WEEK: "an ISO week like 2026-W47",
        }[self.type]

    def normalise(self, raw: str) -> str:
        """The canonical text of ``raw``; ``InvalidInputError`` when it does not fit."""
        value = raw.strip() if self.type is not InputType.STRING else raw
        problem = f"input {self.name}={raw!r} is invalid: expected {self.expects()}"
        try:
            text = self._canonical(value)
        except ValueError:
            raise InvalidInputError(problem) from None
        if self.enum and text not in self.enum:
            raise InvalidInputError(problem)
        if self.pattern and not re.fullmatch(self.pattern, text):
            raise InvalidInputError(problem)
        return text

    def _canonical(self, value: str) -> str:
        if self.type is InputType.INTEGER:
            return str(int(value))
        if self.type is InputType.NUMBER:
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(value)
            return repr(number) if not number.is_integer() else str(int(number))
        if self.type is InputType.BOOLEAN:
            lowered = value.lower()
            if lowered in _TRUE:
                return "true"
            if lowered in _FALSE:
                return "false"
            raise ValueError(value)
        if self.type is InputType.DATE:
            return date.fromisoformat(value).isoformat()
        if self.type is InputType.ISO_WEEK:
            found = _ISO_WEEK.fullmatch(value.upper())
            if found is None:
                raise ValueError(value)
            year, week = int(found[1]), int(found[2])
            date.fromisocalendar(year, week, 1)  # ValueError for a week the year lacks
            return f"{year:04d}-W{week:02d}"
        if self.type is InputType.DATETIME:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError(value)
            return moment.isoformat()
        return value


def validate_inputs(agent: str, specs: list[InputSpec], given: Mapping[str, str]) -> dict[str, str]:
    """The task's inputs, checked and normalised, with defaults filled in.

    An agent that declares no inputs accepts none; one that declares some accepts only
    those. Every problem is an ``InvalidInputError`` naming the input.
    """
    known = {spec.name: spec for spec in specs}
    unknown = sorted(set(given) - set(known))
    if unknown:
        accepted = ", ".join(sorted(known)) or "none"
        raise InvalidInputError(
            f"agent {agent!r} takes no input {', '.join(unknown)} (its inputs: {accepted})"
        )
    inputs: dict[str, str] = {}
    for spec in specs:
        if spec.name in given:
            inputs[spec.name] = spec.normalise(given[spec.name])
        elif spec.default is not None:
            inputs[spec.name] = spec.normalise(_text(spec.default))
        elif spec.required:
            raise InvalidInputError(
                f"agent {agent!r} needs input {spec.name} ({spec.expects()}): "
                f"pass --input {spec.name}=..."
            )
    return inputs


def _text(value: str | int | float | bool) -> str:
    """A TOML default as the text a ``--input`` would give (booleans as true/false)."""
    return str(value).lower() if isinstance(value, bool) else str(value)
