"""Heartbeat while a long call is in flight.

Heartbeats let Temporal notice a dead worker in seconds rather than at the end of a
ten-minute start-to-close timeout, and they are how cancellation reaches an activity.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from temporalio import activity

T = TypeVar("T")

HEARTBEAT_EVERY_S = 5.0
# Beats per heartbeat timeout: one lost or late beat must not time the call out.
BEATS_PER_TIMEOUT = 3


def heartbeat_interval_s() -> float:
    """A third of this activity's heartbeat timeout (``HEARTBEAT_EVERY_S`` when it has none)."""
    timeout = activity.info().heartbeat_timeout if activity.in_activity() else None
    if not timeout:
        return HEARTBEAT_EVERY_S
    return max(timeout.total_seconds() / BEATS_PER_TIMEOUT, 0.1)


async def with_heartbeats(work: Awaitable[T], every_s: float | None = None) -> T:
    """Await ``work``, heartbeating every ``every_s`` seconds while it runs.

    By default the interval follows the activity's own heartbeat timeout (set per tool
    and per model reference), so a short timeout notices a dead worker quickly without
    the call timing out between beats.

    The first heartbeat goes out after ``every_s``, not at the start: most model and tool
    calls end in milliseconds, and sdk-core sends an activity's first heartbeat to the
    server at once (it throttles only the later ones), so beating at the start cost those
    calls an RPC for nothing. A longer call still heartbeats well inside its heartbeat
    timeout, and cancellation, which comes back in a heartbeat's response, reaches it as
    before: a cancel asked for in its first ``every_s`` arrives with that first,
    unthrottled heartbeat (sooner than behind a throttled second one).
    """

    interval = every_s if every_s is not None else heartbeat_interval_s()

    async def beat() -> None:
        while True:
            await asyncio.sleep(interval)
            activity.heartbeat()

    beater = asyncio.create_task(beat())
    try:
        return await work
    finally:
        beater.cancel()
