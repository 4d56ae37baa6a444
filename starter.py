"""The Taskcraft CLI (installed as ``taskcraft``): start, inspect, approve and steer tasks.

python starter.py start workspace-analyst --goal "Summarise the workspace" --wait
python starter.py --help
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from cli.app import main as run


def main(argv: Sequence[str] | None = None) -> None:
    code = run(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    # Exit without interpreter finalisation: the Temporal client's native runtime keeps
    # threads that can abort a finalising interpreter after a failed RPC, which would
    # turn a clean one-line error into a crash report. Nothing is left to clean up here.
    os._exit(code)


if __name__ == "__main__":
    main()
