"""The weekly incident report, an example built on Taskcraft's public surface only.

``data``: tickets, log events and their statistics (pure). ``prompts``: the model call.
``connectors``: Jira, logs (local files or CloudWatch) and Slack. ``tools``: those as
Taskcraft tools. ``workflow``: the fixed plan (gather, draft, approve, send).
``offline``: how the offline model drafts the report, so the demo needs no API key.
"""
