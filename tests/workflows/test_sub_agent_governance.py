"""Agents that call agents, governed: depth and fan-out limits, the parent's policy over the
child's, and a child's gate decided in the inbox, where it names its parent."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

import httpx

from inbox import build_inbox_app
from taskcraft.task import ToolOutcome
from tests.support.fake_providers import FakeToolCall, reply
from tests.workflows import test_inbox_app as inbox
from tests.workflows.conftest import Harness
from tests.workflows.test_sub_agents import RAN, TOOLS, agent, ask, at_gate, child, open_policy

__all__ = ["open_policy"]  # the autouse fixture: an open policy, and RAN cleared


async def test_depth_and_fan_out_limits_are_observations_for_the_model(harness: Harness) -> None:
    """A child may not call further past max_agent_depth; a task starts at most max_child_tasks."""
    lead, helper = harness.model("lead"), harness.model("helper")
    harness.providers.script(
        reply("", [ask("helper", "go", "c1"), ask("helper", "again", "c2")]),
        reply("done"),
        model=lead,
    )
    harness.providers.script(
        reply("", [ask("helper", "deeper", "d1")]), reply("helped"), model=helper
    )
    agents = [
        agent("lead", lead, agents=["helper"], max_child_tasks=1, max_agent_depth=1),
        # Its own limit would allow a deeper chain: the parent's stricter one holds.
        agent("helper", helper, agents=["helper"], max_agent_depth=5),
    ]
    async with harness.worker(agents, tools=TOOLS):
        parent = await harness.start(agents[0])
        await parent.result()
        state = await harness.state(parent)
        helped = await harness.state(child(harness, parent, "helper-1-1"))

    first, second = state.steps[0].tool_calls
    assert first.outcome is ToolOutcome.OK
    assert second.outcome is ToolOutcome.DENIED
    assert "max_child_tasks = 1" in second.observation
    [deeper] = helped.steps[0].tool_calls
    assert deeper.outcome is ToolOutcome.DENIED
    assert "may go only 1 deep" in deeper.observation
    assert deeper.child_task_id is None
    assert harness.providers.count(model=helper) == 2  # one child, two turns


def write_policy(harness: Harness, name: str, rules: str) -> str:
    folder = harness.settings.policy_dirs[0]
    (folder / f"{name}.toml").write_text(f'name = "{name}"\ndefault_effect = "allow"\n{rules}')
    return name


async def test_the_parents_policy_caps_the_childs_and_sees_agent_calls(harness: Harness) -> None:
    """A call the parent's policy denies is denied in the child; call_agent_* can be gated."""
    policy = write_policy(
        harness,
        "lead-rules",
        '[[rules]]\nid = "ask-first"\ntool = "call_agent_*"\neffect = "require_approval"\n'
        'reason = "a person decides which agents run"\n'
        '[[rules]]\nid = "no-publishing"\ntool = "publish"\neffect = "deny"\n'
        'reason = "this team never publishes"\n',
    )
    lead, helper = harness.model("lead"), harness.model("helper")
    harness.providers.script(reply("", [ask("helper", "go", "c1")]), reply("done"), model=lead)
    harness.providers.script(
        reply("", [FakeToolCall("publish", {"text": "x"}, id="p1")]),
        reply("could not"),
        model=helper,
    )
    agents = [agent("lead", lead, agents=["helper"], policy=policy), agent("helper", helper)]
    async with harness.worker(agents, tools=TOOLS):
        parent = await harness.start(agents[0])
        gated = await harness.wait_for(parent, at_gate)
        await harness.taskcraft().approve(parent.id, approver="alice")
        await parent.result()
        helped = await harness.state(child(harness, parent, "helper-1-1"))

    assert gated.pending is not None
    assert gated.pending.tool == "call_agent_helper"
    assert gated.pending.reason == "a person decides which agents run"
    [denied] = helped.steps[0].tool_calls
    assert denied.outcome is ToolOutcome.DENIED
    assert denied.policy_rule == "lead-rules:no-publishing"
    assert "this team never publishes" in denied.observation
    assert RAN == {}


async def test_a_childs_gate_is_in_the_inbox_naming_its_parent_and_decided_there(
    harness: Harness,
) -> None:
    lead, helper = harness.model("lead"), harness.model("helper")
    harness.providers.script(reply("", [ask("helper", "go", "c1")]), reply("done"), model=lead)
    harness.providers.script(
        reply("", [FakeToolCall("publish", {"text": "x"}, id="p1")]), reply("helped"), model=helper
    )
    agents = [agent("lead", lead, agents=["helper"]), agent("helper", helper)]
    settings = replace(inbox.SETTINGS, list_filter=f"TaskQueue = '{harness.settings.task_queue}'")
    app = build_inbox_app(harness.client, settings)
    async with (
        harness.worker(agents, tools=TOOLS),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=inbox.BASE) as http,
    ):
        parent = await harness.start(agents[0])
        helping = child(harness, parent, "helper-1-1")
        await harness.wait_for(helping, at_gate)
        row = inbox.table_row(await inbox.poll_inbox(http, helping.id), helping.id)
        page = await http.get(inbox.link(helping.id))
        fields = inbox.hidden_fields(page.text, "approve")
        done = await http.post(
            inbox.decide_url(inbox.link(helping.id)), data=fields, headers=inbox.ORIGIN
        )
        result = await parent.result()

    assert f'called by <a href="/tasks/{quote(parent.id)}">{parent.id}</a>' in row
    assert f'<dt>Called by</dt><dd><a href="/tasks/{quote(parent.id)}">' in page.text
    assert done.status_code == 200, done.text
    assert result.result == "done"
    assert RAN == {"publish:x": 1}
