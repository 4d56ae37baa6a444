"""Reading a tool's result back from its text: only for tasks started on older code.

The connectors now return their statistics as structured data beside the text the model
reads. Tasks that started before that have only the text in their history, and replay
must read it the way the code they started on did. Delete this once no such task is
left (see ``taskcraft list --status AWAITING_APPROVAL``).
"""

from __future__ import annotations

import json
from typing import Any

from taskcraft.errors import TaskFailedError


def json_field(content: str, key: str) -> Any:
    """``key`` of a tool's JSON result, also from an observation cut at the tool's limit.

    The connectors put their summary fields before the long lists, so a cut observation
    still holds them whole.
    """
    try:
        return json.loads(content)[key]
    except (ValueError, KeyError, TypeError):
        pass
    marker = content.find(f'"{key}":')
    if marker < 0:
        raise TaskFailedError(f"the tool result has no {key!r}: {content[:200]}")
    start = marker + len(key) + 3
    try:
        value, _ = json.JSONDecoder().raw_decode(content[start:].lstrip())
    except ValueError as error:
        raise TaskFailedError(f"the tool result's {key!r} is cut short: {error}") from error
    return value
