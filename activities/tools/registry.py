"""Tools by name. The worker builds one registry; tests build their own."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from taskcraft.agents import ToolSpec
from taskcraft.tools import Tool


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool[Any]] = ()) -> None:
        self._tools: dict[str, Tool[Any]] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool[Any]) -> None:
        if tool.name in self._tools:
            raise ValueError(f"tool {tool.name!r} is registered twice")
        self._tools[tool.name] = tool

    def get(self, name: str) -> Tool[Any] | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return sorted(self._tools)

    def specs(self, names: Iterable[str], env: Mapping[str, str] | None = None) -> list[ToolSpec]:
        """The specs a task pins, as this worker's configuration makes them."""
        missing = [name for name in names if name not in self._tools]
        if missing:
            raise KeyError(", ".join(missing))
        return [self._tools[name].spec_for(env or {}) for name in names]
