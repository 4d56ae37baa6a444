"""The pre-flight check for the incident report: every configuration problem, up front.

Run before a task starts (by the CLI or the worker), so a missing token is reported as
"JIRA_API_TOKEN is not set" instead of as a failed activity half-way through a task.
Nothing configured at all is valid: that is the offline demo, on the shipped sample
tickets and logs, with Slack messages written to the local outbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from incidents.connectors.common import env_flag, sample_data_dir
from incidents.connectors.jira import JiraSettings, uses_sample_jira
from incidents.connectors.logs import LogsSettings
from incidents.connectors.slack import SlackSettings


def check_incident_config(env: Mapping[str, str], data_dir: Path | None = None) -> list[str]:
    """Each problem as a sentence naming the variable to set or fix; empty when all is well."""
    problems: list[str] = []
    if env_flag(env.get("TASKCRAFT_SAMPLE_DATA")) is None:
        problems.append(
            f"TASKCRAFT_SAMPLE_DATA must be 1 or 0, not {env['TASKCRAFT_SAMPLE_DATA']!r}."
        )
    logs = LogsSettings.from_env(env)
    if uses_sample_jira(env) or (logs.log_dir is None and logs.source == "local"):
        tickets = sample_data_dir(env) / "tickets.json"
        if not tickets.is_file():
            problems.append(
                f"The sample data is missing ({tickets}): set TASKCRAFT_SAMPLE_DIR to the "
                "examples/incident_report/sample_data folder of a Taskcraft checkout."
            )
    if not uses_sample_jira(env):
        problems += JiraSettings.from_env(env).problems()
    problems += logs.problems()
    # The outbox location does not affect validity; only the Slack variables do.
    problems += SlackSettings.from_env(env, data_dir or Path(".")).problems()
    return problems
