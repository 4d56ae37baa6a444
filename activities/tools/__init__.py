"""Tools an agent can call, each run as a Temporal activity by the worker."""

from activities.tools.base import Tool, ToolContext, ToolError
from activities.tools.builtin import builtin_tools
from activities.tools.registry import ToolRegistry

__all__ = ["Tool", "ToolContext", "ToolError", "ToolRegistry", "builtin_tools"]
