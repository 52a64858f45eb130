"""三方转接 to the sub-center over the PJSIP trunk: the caller's voice reaches the
sub-center, the agent leaves, the call stays up, the ticket and line arrive."""
from __future__ import annotations

import asyncio

import pytest

from ivr.storage import repo
from tests.transfer.support import CALLER_HZ, CALLER_NUMBER, SUBCENTER_HZ, pcm, tone_flowing, tone_share

pytestmark = pytest.mark.asterisk


async def _bridged_with_subcenter(lab, caller: str) -> dict[str, dict]:
    """The center's channels once the sub-center's trunk channel shares the caller's bridge."""
    for _ in range(100):
        channels = {c["Channel"]: c for c in await lab.channels()}
        bridge = channels.get(caller, {}).get("BridgeId")
        if bridge and any(n.startswith("PJSIP/subcenter-") and c["BridgeId"] == bridge for n, c in channels.items()):
            return channels
        await asyncio.sleep(0.1)
    raise AssertionError(f"the sub-center never joined the caller's bridge: {sorted(channels)}")


async def test_threeway_to_subcenter_over_http(xlab):
    lab = xlab
    await lab.login("g1")
    call = await lab.place("12333")          # 人社 line: expert seats empty -> general pool
    await lab.answered_by(call, "g1")
    await lab.owned_by(call, "g1")
    legs = await lab.legs(call)
    ticket = await lab.ami.getvar(legs.caller, "HOTLINE_TICKET")
    assert ticket and ticket.startswith("T")
    agent_channel = legs.agent

    sub_since = len(lab.sub_ami.events)
    async with lab.http("g1") as http:
        resp = await http.post(f"/api/calls/{call.call_id}/transfer", json={"kind": "subcenter", "target": "tax"})
        assert resp.status == 202, await resp.text()
    sub = await lab.subcenter_answer(since=sub_since)
    # the work order's ticket and line travelled as SIP headers into channel variables
    assert sub["Ticket"] == ticket
    assert sub["Line"] == "hrss-12333"
    assert sub["Caller"] == CALLER_NUMBER
    assert await lab.sub_ami.getvar(sub["Channel"], "HOTLINE_TICKET") == ticket
    await lab.until_status(call, "connected")

    # three on one bridge (once Local-channel optimisation has swapped the leg out)
    channels = await _bridged_with_subcenter(lab, legs.caller)
    bridge = channels[legs.caller]["BridgeId"]
    assert channels[agent_channel]["BridgeId"] == bridge

    # the 12345 agent introduces the case and leaves
    since = len(lab.ami.events)
    async with lab.http("g1") as http:
        resp = await http.post(f"/api/calls/{call.call_id}/transfer/complete")
        assert resp.status == 200, await resp.text()
    await lab.ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == agent_channel, since=since)

    channels = {c["Channel"]: c for c in await lab.channels()}
    assert agent_channel not in channels
    caller = channels[legs.caller]
    assert caller["ChannelStateDesc"] == "Up"
    far = [c for c in channels.values() if c["Channel"].startswith("PJSIP/subcenter-")]
    assert far and far[0]["BridgeId"] == caller["BridgeId"]
    # the sub-center agent hears the caller's voice, after the agent left
    assert await tone_flowing(lab.subcenter_heard(sub), CALLER_HZ) > 0.5
    # and the caller hears the sub-center agent
    heard = lab.recordings() / f"testcall-{call.tag}-heard.wav"
    assert tone_share(pcm(heard), SUBCENTER_HZ, start_s=len(pcm(heard)) / 8000 - 3) > 0.3

    rows = await lab.services.store.run(repo.transfers, call.call_id)
    assert [(r["kind"], r["target"], r["result"]) for r in rows] == [("three_way", "subcenter:tax", "completed")]
    assert rows[0]["ended_at"] and rows[0]["from_agent"] == "g1"
    # the transfer leg is the agent's own call, not a second citizen call in the records
    xid = rows[0]["detail"]["id"]
    assert await lab.services.store.run(repo.get_call, f"{xid}-1") is None
