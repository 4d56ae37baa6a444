"""SDK tool listings and call results become Taskcraft's text-plus-data models."""

from __future__ import annotations

import mcp_types as types

from activities.mcp.results import call_result, tool_info


def test_text_blocks_are_joined_for_the_model_and_structured_content_kept_for_code() -> None:
    result = types.CallToolResult(
        content=[types.TextContent(text="line one"), types.TextContent(text="line two")],
        structured_content={"count": 2},
    )
    converted = call_result(result)
    assert converted.text == "line one\nline two"
    assert converted.structured == {"count": 2}
    assert converted.is_error is False


def test_a_tool_error_is_marked_not_raised() -> None:
    result = types.CallToolResult(content=[types.TextContent(text="no such repo")], is_error=True)
    assert call_result(result).is_error is True


def test_structured_content_that_is_not_an_object_is_wrapped_as_result() -> None:
    result = types.CallToolResult(content=[], structured_content=[1, 2])
    assert call_result(result).structured == {"result": [1, 2]}


def test_content_the_model_cannot_read_as_text_is_named_not_pasted() -> None:
    blob = "QUJD" * 100  # 400 base64 characters: 300 bytes
    result = types.CallToolResult(
        content=[
            types.ImageContent(data=blob, mime_type="image/png"),
            types.ResourceLink(name="report", uri="file:///r.csv"),
            types.EmbeddedResource(
                resource=types.TextResourceContents(uri="file:///a.txt", text="embedded text")
            ),
            types.EmbeddedResource(
                resource=types.BlobResourceContents(uri="file:///b.bin", blob=blob)
            ),
        ]
    )
    lines = call_result(result).text.splitlines()
    assert lines == [
        "[image image/png, 300 bytes, not shown]",
        "[resource link: file:///r.csv]",
        "embedded text",
        "[resource file:///b.bin (binary), not shown]",
    ]
    assert blob not in call_result(result).text


def test_a_listed_tool_keeps_its_name_description_and_input_schema() -> None:
    schema = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    info = tool_info(types.Tool(name="search", description=None, input_schema=schema))
    assert (info.name, info.description, info.input_schema) == ("search", "", schema)
