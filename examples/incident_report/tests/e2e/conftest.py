"""End-to-end tests of the example run on the project's process fixtures."""

from tests.e2e.conftest import (  # noqa: F401 - fixtures, registered by import
    e2e_providers,
    processes,
    temporal_address,
)
