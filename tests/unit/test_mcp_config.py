"""MCP server configuration, ``${VAR}`` substitution and tool naming: pure logic, no I/O."""

from __future__ import annotations

import pickle

import pytest
from pydantic import ValidationError

from activities.mcp.transport import resolve
from taskcraft.errors import (
    ConfigError,
    McpCallTimeoutError,
    McpMissingVariableError,
    McpUnavailableError,
)
from taskcraft.mcp import (
    McpCallResult,
    McpServerConfig,
    McpToolInfo,
    mcp_tool_name,
    split_mcp_tool_name,
    substitute,
)


def _error(**fields: object) -> str:
    with pytest.raises(ValidationError) as caught:
        McpServerConfig.model_validate(fields)
    return str(caught.value)


def test_a_stdio_server_and_an_http_server_validate_with_their_defaults() -> None:
    local = McpServerConfig(name="files", command="mcp-files", args=["--root", "/data"])
    remote = McpServerConfig(name="github", url="https://mcp.example.com/mcp")
    assert (local.transport, remote.transport) == ("stdio", "http")
    assert (local.timeout_s, local.connect_timeout_s) == (60.0, 10.0)


@pytest.mark.parametrize("name", ["git.hub", "my server", "", "x" * 65, "ünï"])
def test_a_server_name_outside_letters_digits_dash_underscore_is_refused(name: str) -> None:
    assert "letters, digits, '-' or '_'" in _error(name=name, command="x")


def test_a_server_needs_exactly_one_of_command_and_url() -> None:
    assert "exactly one of `command`" in _error(name="s")
    assert "exactly one of `command`" in _error(name="s", command="x", url="http://h/mcp")


def test_stdio_settings_on_an_http_server_and_headers_on_a_stdio_server_are_refused() -> None:
    message = _error(name="s", url="http://h/mcp", args=["-v"], cwd="/tmp")
    assert "`args`, `cwd` apply to a `command` server" in message
    assert "`headers` apply to a `url` server" in _error(
        name="s", command="x", headers={"Authorization": "x"}
    )


def test_a_url_must_be_http_unless_it_is_a_reference() -> None:
    assert "must start with http:// or https://" in _error(name="s", url="ftp://h/mcp")
    assert McpServerConfig(name="s", url="${GITHUB_MCP_URL}").url == "${GITHUB_MCP_URL}"


@pytest.mark.parametrize("value", ["Bearer ${TOKEN", "${1TOKEN}", "${}", "${TO-KEN}"])
def test_a_malformed_reference_is_refused_naming_the_field(value: str) -> None:
    message = _error(name="s", url="http://h/mcp", headers={"Authorization": value})
    assert "headers.Authorization" in message
    assert "is not a ${VAR} reference" in message


def test_unknown_fields_and_non_positive_timeouts_are_refused() -> None:
    assert "Extra inputs are not permitted" in _error(name="s", command="x", comand="y")
    assert "greater than 0" in _error(name="s", command="x", timeout_s=0)


def test_referenced_variables_lists_each_variable_once_in_order() -> None:
    config = McpServerConfig(
        name="s",
        command="${TOOLS}/server",
        args=["--user", "${USER_NAME}", "--tools", "${TOOLS}"],
        env={"API_KEY": "${KEY}"},
    )
    assert config.referenced_variables() == ["TOOLS", "USER_NAME", "KEY"]


def test_substitute_replaces_references_and_leaves_other_dollars_alone() -> None:
    env = {"TOKEN": "abc", "HOST": "h"}
    text = substitute("Bearer ${TOKEN} $HOST $5 ${HOST}", env, server="s", field="f")
    assert text == "Bearer abc $HOST $5 h"


def test_a_missing_variable_names_the_server_the_variable_and_the_field() -> None:
    with pytest.raises(McpMissingVariableError) as caught:
        substitute("Bearer ${GITHUB_TOKEN}", {}, server="github", field="headers.Authorization")
    message = str(caught.value)
    assert "'github'" in message
    assert "GITHUB_TOKEN" in message
    assert "headers.Authorization" in message
    assert isinstance(caught.value, ConfigError)


def test_resolving_for_the_worker_keeps_secrets_out_of_repr_and_redacts_them_back() -> None:
    config = McpServerConfig(
        name="github",
        url="https://mcp.example.com/mcp?key=${API_KEY}",
        headers={"Authorization": "Bearer ${TOKEN}"},
    )
    resolved = resolve(config, {"API_KEY": "k-123456", "TOKEN": "t-secret-value"})
    assert resolved.url == "https://mcp.example.com/mcp?key=k-123456"
    assert resolved.headers == {"Authorization": "Bearer t-secret-value"}
    assert "secret" not in repr(resolved)
    assert "k-123456" not in repr(resolved)
    assert resolved.redact("401 for Bearer t-secret-value at ?key=k-123456") == (
        "401 for Bearer ${TOKEN} at ?key=${API_KEY}"
    )
    assert config.headers["Authorization"] == "Bearer ${TOKEN}"  # the stored form is kept


def test_resolving_a_stdio_server_substitutes_command_args_env_and_cwd() -> None:
    config = McpServerConfig(
        name="files",
        command="${BIN}/mcp-files",
        args=["--root", "${ROOT}"],
        env={"FILES_TOKEN": "${TOKEN}"},
        cwd="${ROOT}",
    )
    resolved = resolve(config, {"BIN": "/opt/bin", "ROOT": "/data", "TOKEN": "tok"})
    assert resolved.stdio is not None
    assert resolved.stdio.command == "/opt/bin/mcp-files"
    assert resolved.stdio.args == ["--root", "/data"]
    assert resolved.stdio.env == {"FILES_TOKEN": "tok"}
    assert resolved.stdio.cwd == "/data"


def test_a_url_that_is_not_http_once_substituted_is_a_config_error() -> None:
    config = McpServerConfig(name="s", url="${URL}")
    with pytest.raises(ConfigError, match="must start with http"):
        resolve(config, {"URL": "localhost:8000/mcp"})


def test_the_tool_name_is_server_dot_tool_and_splits_back() -> None:
    name = mcp_tool_name("github", "create_issue")
    assert name == "github.create_issue"
    assert split_mcp_tool_name(name) == ("github", "create_issue")
    # Tool names may carry dots of their own; server names never do.
    assert split_mcp_tool_name("fs.read.v2") == ("fs", "read.v2")


@pytest.mark.parametrize("name", ["read_file", ".tool", "server.", "my server.tool", ""])
def test_names_that_are_not_mcp_tools_split_to_none(name: str) -> None:
    assert split_mcp_tool_name(name) is None


def test_an_invalid_server_or_empty_tool_cannot_make_a_name() -> None:
    with pytest.raises(ValueError, match="not an MCP server name"):
        mcp_tool_name("git.hub", "x")
    with pytest.raises(ValueError, match="cannot be empty"):
        mcp_tool_name("github", "")


def test_errors_carry_the_server_and_survive_pickling() -> None:
    error = McpCallTimeoutError("github", "a call to 'x' got no answer within 5s")
    assert str(error) == "MCP server 'github' is unavailable: a call to 'x' got no answer within 5s"
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, McpUnavailableError)
    assert copy.server == "github"
    missing = pickle.loads(pickle.dumps(McpMissingVariableError("s", "TOKEN", "env.TOKEN")))
    assert (missing.server, missing.variable, missing.field) == ("s", "TOKEN", "env.TOKEN")


def test_tool_infos_and_results_round_trip_as_json_payloads() -> None:
    info = McpToolInfo(name="add", description="Add.", input_schema={"type": "object"})
    result = McpCallResult(text="3", structured={"result": 3})
    assert McpToolInfo.model_validate_json(info.model_dump_json()) == info
    assert McpCallResult.model_validate_json(result.model_dump_json()) == result
