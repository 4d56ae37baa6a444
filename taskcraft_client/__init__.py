"""The Taskcraft Python client: drive tasks from an application, as the CLI and inbox do."""

from taskcraft_client.client import StartedTask, TaskcraftClient, TaskSummary
from taskcraft_client.records import Reading
from taskcraft_client.schedule_view import ScheduleView
from taskcraft_client.schedules import Schedules
from taskcraft_client.task_tree import TaskTree

__all__ = [
    "Reading",
    "ScheduleView",
    "Schedules",
    "StartedTask",
    "TaskSummary",
    "TaskTree",
    "TaskcraftClient",
]
