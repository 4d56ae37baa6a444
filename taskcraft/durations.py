"""Durations people write: ``90``, ``"90s"``, ``"15m"``, ``"6h"``, ``"3d"`` (stored as seconds).

Agent files and policies say how long a gate waits or a task may run; "72h" reads
better than 259200. Values are stored and pinned as plain seconds.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


def parse_seconds(value: Any) -> Any:
    """Seconds from a number or a string like ``"15m"``; other values pass to validation."""
    if isinstance(value, str):
        found = _DURATION.match(value)
        if found is None:
            raise ValueError(
                f"{value!r} is not a duration; write seconds (90) or a number with a unit: "
                "90s, 15m, 6h, 3d, 1w"
            )
        return float(found[1]) * _UNIT_SECONDS[found[2]]
    return value


Seconds = Annotated[float, BeforeValidator(parse_seconds)]
