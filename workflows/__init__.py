"""Task workflows: deterministic code only (no I/O, clocks, randomness or threads)."""

from workflows.agent import AgentWorkflow
from workflows.incident_report import IncidentReportWorkflow
from workflows.task_base import TaskFailedError, TaskWorkflowBase

WORKFLOWS = (AgentWorkflow, IncidentReportWorkflow)

__all__ = [
    "WORKFLOWS",
    "AgentWorkflow",
    "IncidentReportWorkflow",
    "TaskFailedError",
    "TaskWorkflowBase",
]
