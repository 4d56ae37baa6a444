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
    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(every_s)

    beater = asyncio.create_task(beat())
    try:
        return await work
    finally:
        beater.cancel()
