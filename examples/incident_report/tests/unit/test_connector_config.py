"""The pre-flight check: every configuration problem names the variable to set or fix."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from incidents.connectors.config_check import check_incident_config
from incidents.connectors.jira import JiraSettings

from taskcraft.errors import ConfigError

JIRA = "https://example.atlassian.net"


def test_nothing_configured_is_the_valid_offline_sample_mode() -> None:
    assert check_incident_config({}) == []


def test_a_fully_configured_live_setup_has_no_problems(tmp_path: Path) -> None:
    env = {
        "JIRA_BASE_URL": JIRA,
        "JIRA_EMAIL": "ops@example.com",
        "JIRA_API_TOKEN": "token",
        "TASKCRAFT_LOG_DIR": str(tmp_path),
        "SLACK_BOT_TOKEN": "xoxb-1-2-3",
        "SLACK_CHANNEL": "C0123ABCDEF",
    }
    assert check_incident_config(env) == []


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"JIRA_BASE_URL": JIRA}, "set JIRA_EMAIL and JIRA_API_TOKEN (Jira Cloud) or JIRA_BEARER_TOKEN"),
        ({"JIRA_BASE_URL": JIRA, "JIRA_EMAIL": "a@b.c"}, "JIRA_API_TOKEN is not set"),
        ({"JIRA_BASE_URL": JIRA, "JIRA_API_TOKEN": "t"}, "JIRA_EMAIL is not set"),
        ({"JIRA_BASE_URL": "example.atlassian.net", "JIRA_BEARER_TOKEN": "t"}, "JIRA_BASE_URL must be a full URL"),
        ({"JIRA_BASE_URL": "http://jira.internal", "JIRA_BEARER_TOKEN": "t"}, "JIRA_BASE_URL must use https"),
        ({"JIRA_BASE_URL": JIRA, "JIRA_BEARER_TOKEN": "t", "JIRA_SEARCH_API": "v1"}, "JIRA_SEARCH_API must be 'jql' or 'classic'"),
        ({"TASKCRAFT_SAMPLE_DATA": "maybe"}, "TASKCRAFT_SAMPLE_DATA must be 1 or 0"),
        ({"TASKCRAFT_LOG_SOURCE": "elastic"}, "TASKCRAFT_LOG_SOURCE must be 'local' or 'cloudwatch'"),
        ({"TASKCRAFT_LOG_DIR": "/no/such/folder"}, "TASKCRAFT_LOG_DIR is '/no/such/folder'"),
        ({"TASKCRAFT_LOG_SOURCE": "cloudwatch"}, "AWS_REGION is not set"),
        ({"TASKCRAFT_LOG_SOURCE": "cloudwatch", "AWS_REGION": "eu-west-1"}, "CLOUDWATCH_LOG_GROUP is not set"),
        ({"TASKCRAFT_LOG_SOURCE": "cloudwatch", "AWS_ACCESS_KEY_ID": "AKID"}, "AWS_SECRET_ACCESS_KEY is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_CHANNEL is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-1", "SLACK_CHANNEL": "C0123ABCDEF"}, "SLACK_BOT_TOKEN must be a bot token"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CHANNEL": "#incidents"}, "SLACK_CHANNEL must be a channel ID"),
        ({"SLACK_CHANNEL": "C0123ABCDEF"}, "SLACK_CHANNEL is set but SLACK_BOT_TOKEN is not"),
        ({"SLACK_WEBHOOK_URL": "http://hooks.slack.com/services/x"}, "SLACK_WEBHOOK_URL must use https"),
        ({"TASKCRAFT_SAMPLE_DIR": "/no/such/samples"}, "set TASKCRAFT_SAMPLE_DIR to the examples/incident_report/sample_data folder"),
    ],
)  # fmt: skip
def test_each_problem_names_its_variable(env: dict[str, str], expected: str) -> None:
    problems = check_incident_config(env)
    assert any(expected in problem for problem in problems), problems


def test_forced_sample_data_skips_the_live_jira_check() -> None:
    env = {"JIRA_BASE_URL": JIRA, "TASKCRAFT_SAMPLE_DATA": "1"}
    assert check_incident_config(env) == []


def test_every_problem_is_reported_at_once_not_one_per_attempt() -> None:
    env = {"JIRA_BASE_URL": JIRA, "TASKCRAFT_LOG_SOURCE": "cloudwatch", "SLACK_BOT_TOKEN": "xoxb-1"}
    problems = check_incident_config(env)
    botocore_missing = importlib.util.find_spec("botocore") is None
    assert len(problems) == 4 + botocore_missing  # Jira creds, region, log group, channel


def test_validate_raises_config_error_with_the_same_sentences() -> None:
    with pytest.raises(ConfigError, match="JIRA_API_TOKEN is not set"):
        JiraSettings.from_env({"JIRA_BASE_URL": JIRA, "JIRA_EMAIL": "a@b.c"}).validate()


def test_loopback_http_is_allowed_for_tests_and_local_fakes() -> None:
    env = {"JIRA_BASE_URL": "http://127.0.0.1:8080", "JIRA_BEARER_TOKEN": "t"}
    assert check_incident_config(env) == []
