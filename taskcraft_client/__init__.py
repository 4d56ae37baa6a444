"""The Taskcraft Python client: drive tasks from an application, as the CLI and inbox do."""

from taskcraft_client.client import StartedTask, TaskcraftClient, TaskSummary
from taskcraft_client.records import Reading

__all__ = ["Reading", "StartedTask", "TaskSummary", "TaskcraftClient"]
