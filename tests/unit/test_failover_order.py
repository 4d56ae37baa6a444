"""The order a route is tried in while references cool down after failing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from taskcraft.model_ref import ModelRef
from workflows.task.model_route import cooling_last

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
A, B, C = (ModelRef(ref=f"openai:{name}") for name in "abc")


def names(route: list[ModelRef]) -> list[str]:
    return [ref.ref for ref in route]


def test_no_cooldowns_keep_the_route_as_written() -> None:
    assert names(cooling_last([A, B, C], {}, NOW)) == ["openai:a", "openai:b", "openai:c"]


def test_cooling_references_go_last_in_their_own_order() -> None:
    later = NOW + timedelta(minutes=5)
    cooling = {"openai:a": later, "openai:b": later}
    assert names(cooling_last([A, B, C], cooling, NOW)) == ["openai:c", "openai:a", "openai:b"]


def test_a_rested_reference_is_first_again() -> None:
    cooling = {"openai:a": NOW - timedelta(seconds=1), "openai:b": NOW + timedelta(seconds=1)}
    assert names(cooling_last([A, B, C], cooling, NOW)) == ["openai:a", "openai:c", "openai:b"]


def test_a_cooldown_ending_now_has_ended() -> None:
    assert names(cooling_last([A, B], {"openai:a": NOW}, NOW)) == ["openai:a", "openai:b"]
