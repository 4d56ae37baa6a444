"""The report's connectors as Taskcraft tools (what the agent file's ``tools`` names).

Each carries the configuration check (``check``), so a task on a worker with a half-set
credential fails when it is pinned, naming the variable, before any ticket is queried.
"""

from __future__ import annotations

from dataclasses import replace

from incidents.connectors.config_check import check_incident_config
from incidents.connectors.jira import jira_search_tool
from incidents.connectors.logs import query_logs_tool
from incidents.connectors.slack import send_slack_message_tool

jira_search = replace(jira_search_tool(), check=check_incident_config)
query_logs = replace(query_logs_tool(), check=check_incident_config)
send_slack_message = replace(send_slack_message_tool(), check=check_incident_config)
