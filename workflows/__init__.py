"""Task workflows: deterministic code only (no I/O, clocks, randomness or threads).

``TaskWorkflow`` and ``TaskRun`` are the public surface for workflows of your own.
"""

from taskcraft.errors import TaskFailedError
from workflows.agent import AgentWorkflow
from workflows.incident_report import IncidentReportWorkflow
from workflows.task import PLANNED, Step, TaskRun, TaskWorkflow, ToolCallOutcome

WORKFLOWS = (AgentWorkflow, IncidentReportWorkflow)

__all__ = [
    "PLANNED",
    "WORKFLOWS",
    "AgentWorkflow",
    "IncidentReportWorkflow",
    "Step",
    "TaskFailedError",
    "TaskRun",
    "TaskWorkflow",
    "ToolCallOutcome",
]
