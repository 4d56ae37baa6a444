"""The built-in tools every worker offers, and the registry a worker runs its tools from.

Tools themselves (``Tool``, ``@tool``, ``ToolContext``, ``ToolError``) are public, in
``taskcraft.tools``.
"""

from activities.tools.builtin import builtin_tools
from activities.tools.registry import ToolRegistry

__all__ = ["ToolRegistry", "builtin_tools"]
