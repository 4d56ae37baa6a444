"""Library logs (the SDK, Core's forwarded logs) come out as JSON lines on stderr."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from infra.logging import configure_logging
from infra.metrics import CORE_LOGGER


@pytest.fixture(autouse=True)
def restore_logging() -> object:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield None
    root.handlers, root.level = handlers, level
    structlog.reset_defaults()


def test_a_forwarded_core_warning_is_a_json_line_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(json_lines=True)
    logging.getLogger(CORE_LOGGER).warning("[TMPRL1104] Workflow task duration exceeded 5 s")
    logging.getLogger("httpx").info("below the threshold: not shown")
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    record = json.loads(line)
    assert record["event"] == "[TMPRL1104] Workflow task duration exceeded 5 s"
    assert record["logger"] == CORE_LOGGER
    assert record["level"] == "warning"
    assert "timestamp" in record
