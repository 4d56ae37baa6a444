"""The search attributes Taskcraft keeps on every task, so the Temporal UI can filter them.

Registered on the dev server at start (``--search-attribute``), on the test servers, and
by the compose set-up job; their names are part of the public contract.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

STATUS = SearchAttributeKey.for_keyword("TaskcraftStatus")
AGENT = SearchAttributeKey.for_keyword("TaskcraftAgent")
# The schedule that started the task (tasks started by hand have none).
SCHEDULE = SearchAttributeKey.for_keyword("TaskcraftSchedule")

ALL_KEYS = (STATUS, AGENT, SCHEDULE)

# Set by Temporal itself on a task a schedule started: the time it fired for.
SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
