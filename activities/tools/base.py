"""The tool surface lives in ``taskcraft.tools``; the built-in tools import it from here."""

from taskcraft.tools import Tool, ToolContext, ToolError, ToolResult, json_schema

__all__ = ["Tool", "ToolContext", "ToolError", "ToolResult", "json_schema"]
