"""``with_heartbeats``: no heartbeat for a short call, regular ones for a long call."""

from __future__ import annotations

import asyncio
import time

import pytest
from temporalio.testing import ActivityEnvironment

from activities.heartbeat import with_heartbeats


class Beats:
    def __init__(self, env: ActivityEnvironment) -> None:
        self.at: list[float] = []
        self.start = time.monotonic()
        env.on_heartbeat = lambda *_: self.at.append(time.monotonic() - self.start)


async def test_a_call_shorter_than_the_interval_sends_no_heartbeat() -> None:
    """A call that ends before ``every_s`` costs no heartbeat (no RPC to the server)."""
    env = ActivityEnvironment()
    beats = Beats(env)

    async def call() -> str:
        return await with_heartbeats(asyncio.sleep(0.05, "done"), every_s=0.5)

    assert await env.run(call) == "done"
    await asyncio.sleep(0.6)  # the beater was cancelled with the call: nothing comes later
    assert beats.at == []


async def test_a_long_call_heartbeats_after_each_interval_not_at_start() -> None:
    """The first heartbeat comes after ``every_s``, then one per interval until the end."""
    env = ActivityEnvironment()
    beats = Beats(env)

    async def call() -> str:
        return await with_heartbeats(asyncio.sleep(0.55, "done"), every_s=0.1)

    assert await env.run(call) == "done"
    ended = len(beats.at)
    await asyncio.sleep(0.3)
    assert 2 <= ended <= 5, beats.at
    assert beats.at[0] >= 0.09, beats.at
    assert len(beats.at) == ended, "no heartbeat after the call returned"


async def test_a_cancelled_call_stops_heartbeating() -> None:
    """Cancellation reaches the awaited call, and the heartbeats end with it."""
    env = ActivityEnvironment()
    beats = Beats(env)
    started = asyncio.Event()

    async def call() -> None:
        started.set()
        await with_heartbeats(asyncio.Event().wait(), every_s=0.05)

    running = asyncio.create_task(env.run(call))
    await started.wait()
    await asyncio.sleep(0.2)
    env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    stopped = len(beats.at)
    await asyncio.sleep(0.2)
    assert stopped >= 1
    assert len(beats.at) == stopped
