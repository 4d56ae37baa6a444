"""The answer every check gives: whether it holds, and a short why for explanations."""

from __future__ import annotations

from typing import NamedTuple


class Finding(NamedTuple):
    holds: bool
    why: str
