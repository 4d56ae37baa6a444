"""The Taskcraft CLI (installed as ``taskcraft``): start, inspect, approve and steer tasks.

    python starter.py start workspace-analyst --goal "Summarise the workspace" --wait
    python starter.py --help
"""

from __future__ import annotations

import sys

from cli.app import main

if __name__ == "__main__":
    sys.exit(main())
