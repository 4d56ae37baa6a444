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


async def with_heartbeats(work: Awaitable[T], every_s: float = HEARTBEAT_EVERY_S) -> T:
    """Await ``work``, heartbeating every ``every_s`` seconds while it runs.

    The first heartbeat goes out after ``every_s``, not at the start: most model and tool
    calls end in milliseconds, and sdk-core sends an activity's first heartbeat to the
    server at once (it throttles only the later ones), so beating at the start cost those
    calls an RPC for nothing. A longer call still heartbeats well inside the 20 s heartbeat
    timeouts, and cancellation, which comes back in a heartbeat's response, reaches it as
    before: a cancel asked for in its first ``every_s`` arrives with that first,
    unthrottled heartbeat (sooner than behind a throttled second one).
    """

    async def beat() -> None:
        while True:
            await asyncio.sleep(every_s)
            activity.heartbeat()

    beater = asyncio.create_task(beat())
    try:
        return await work
    finally:
        beater.cancel()
