"""The guide's Python tool: a typed function, governed like every built-in tool."""

from __future__ import annotations

from taskcraft import tool


@tool(side_effects="none", timeout_s=5)
def word_count(text: str) -> int:
    """Count the words in a text.

    Args:
        text: the text to count.
    """
    return len(text.split())
