"""The SDK's tool listings and call results, as Taskcraft's neutral models.

The model reads text, code reads structured content (house rule: never parse back text
written for a model), so a result keeps both: the text blocks joined, and the server's
structured content as a dict. Content the model cannot read as text (an image, audio,
a binary resource) is named in a short placeholder rather than pasted as base64.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types

from taskcraft.mcp import McpCallResult, McpToolInfo


def tool_info(tool: types.Tool) -> McpToolInfo:
    hints = (
        tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else {}
    )
    return McpToolInfo(
        name=tool.name,
        description=tool.description or "",
        input_schema=dict(tool.input_schema),
        annotations=hints,
    )


def call_result(result: types.CallToolResult) -> McpCallResult:
    return McpCallResult(
        text="\n".join(_text(block) for block in result.content),
        structured=_structured(result.structured_content),
        is_error=bool(result.is_error),
    )


def _structured(value: Any) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    # Newer servers may return any JSON value; the SDK's own servers wrap one as "result".
    return {"result": value}


def _text(block: types.ContentBlock) -> str:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent | types.AudioContent):
        kind = "image" if isinstance(block, types.ImageContent) else "audio"
        return f"[{kind} {block.mime_type}, {len(block.data) * 3 // 4} bytes, not shown]"
    if isinstance(block, types.ResourceLink):
        return f"[resource link: {block.uri}]"
    resource = block.resource
    if isinstance(resource, types.TextResourceContents):
        return resource.text
    return f"[resource {resource.uri} ({resource.mime_type or 'binary'}), not shown]"
