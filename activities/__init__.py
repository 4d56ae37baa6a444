"""Activities: all of Taskcraft's I/O (model providers, tools, MCP, notifications).

Import the module you need (``activities.model_activity``, ``activities.tool_activity``,
...): this package imports nothing itself, so reading one of them does not start the
MCP SDK or every tool's dependencies.
"""
