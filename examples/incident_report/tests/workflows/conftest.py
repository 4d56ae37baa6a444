"""Workflow tests of the example run on the project's test server fixtures."""

from tests.workflows.conftest import (  # noqa: F401 - fixtures, registered by import
    dev_env,
    harness,
    providers,
    skipping_data_dir,
    skipping_env,
)
