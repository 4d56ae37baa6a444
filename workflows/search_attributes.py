"""The search attributes Taskcraft keeps on every task, so the Temporal UI can filter them.

Registered on the dev server at start (``--search-attribute``) and by the compose
set-up job; their names are part of the public contract.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

STATUS = SearchAttributeKey.for_keyword("TaskcraftStatus")
AGENT = SearchAttributeKey.for_keyword("TaskcraftAgent")

ALL_KEYS = (STATUS, AGENT)
