"""The Taskcraft worker: runs task workflows and their model, tool and notification activities.

    python worker.py            (or: taskcraft worker)

Connection settings come from Temporal's environment configuration (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, or a profile file); Taskcraft's own from
TASKCRAFT_* variables (see README), including the agent folders it serves
(TASKCRAFT_AGENTS). SIGINT or SIGTERM shuts it down gracefully: it stops polling, lets
running activities finish, then exits.
"""

from __future__ import annotations

import sys

from infra.worker_process import main

if __name__ == "__main__":
    sys.exit(main())
