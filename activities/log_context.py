"""Bind workflow id, run id, activity type and attempt to every log line of an activity.

structlog's contextvars carry the binding through awaits, so helpers deep inside an
adapter log with the same context without being passed a logger.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from temporalio import activity


@contextmanager
def activity_log_context(**extra: object) -> Iterator[structlog.stdlib.BoundLogger]:
    info = activity.info()
    with structlog.contextvars.bound_contextvars(
        workflow_id=info.workflow_id,
        run_id=info.workflow_run_id,
        activity=info.activity_type,
        attempt=info.attempt,
        **extra,
    ):
        yield structlog.stdlib.get_logger("taskcraft.activity")
