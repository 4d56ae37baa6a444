"""MCP servers as tool sources, worker side: connections, transports, results."""

from activities.mcp.connections import McpConnections

__all__ = ["McpConnections"]
