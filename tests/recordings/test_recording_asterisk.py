"""Real Asterisk: a call answered by an agent is recorded with each party in its own channel."""
from __future__ import annotations

import hashlib
import stat

import pytest

from recordings import files, repo

from tests.recordings.lab import AGENT_HZ, CALLER_HZ
from tests.support.audio import goertzel_share, read_channels

pytestmark = pytest.mark.asterisk


async def test_each_party_in_its_own_channel(reclab, recorded):
    call_id, agent, row = recorded
    path = reclab.folder / row["file"]
    (caller_ch, agent_ch), rate = read_channels(path)
    assert rate == 8000
    # the caller spoke 1 kHz for 3 s of a ~5 s call; the agent 1.5 kHz beeps throughout
    assert goertzel_share(caller_ch, rate, CALLER_HZ) > 0.4
    assert goertzel_share(caller_ch, rate, AGENT_HZ) < 0.02
    assert goertzel_share(agent_ch, rate, AGENT_HZ) > 0.4
    assert goertzel_share(agent_ch, rate, CALLER_HZ) < 0.02


async def test_row_matches_the_file(reclab, recorded):
    call_id, agent, row = recorded
    path = reclab.folder / row["file"]
    data = path.read_bytes()
    assert row["status"] == "ok" and row["call_id"] == call_id
    assert row["size"] == len(data) and row["sha256"] == hashlib.sha256(data).hexdigest()
    assert row["agents"] == [agent["Agent"]] == ["a1"]
    assert row["queue"] == "general" and row["kind"] == "queue"
    assert 3.0 < row["duration"] < 10.0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert row["file"].startswith(call_id + "-")
    # the two mono files MixMonitor wrote are gone: one file per recorded channel
    assert sorted(p.name for p in reclab.folder.glob(f"{row['rec_id']}*")) == [row["file"]]


async def test_opted_out_queue_is_not_recorded(reclab):
    """recordings.skip_queues: [quiet]: a call answered from that queue leaves no file, no row, no start event."""
    call_id, agent = await reclab.call("12399", hold=1)
    assert agent["Agent"] == "a2"
    await reclab.ended(call_id)
    assert not [e for e in reclab.ami.events if e.get("UserEvent") == "HotlineRecording" and e.get("Linkedid") == call_id]
    assert await reclab.server.services.store.run(repo.for_call, call_id) == []
    assert not list(reclab.folder.glob(f"{call_id}-*"))


async def test_a_missed_hangup_is_recovered_from_the_files(reclab):
    """The server did not see the call end (down, AMI cut): the closed files still become a row."""
    service = reclab.recordings
    call_id, _agent = await reclab.call(hold=1)
    uid, pending = next((u, p) for u, p in service.pending.items() if p.call_id == call_id)
    del service.pending[uid]                      # as if this server never heard of the hangup
    await reclab.ended(call_id)
    caller_file = reclab.folder / f"{pending.rec_id}.caller.wav"
    assert caller_file.exists()
    assert await files.wait_closed([caller_file], 10)  # Asterisk's MixMonitor thread closes it after the hangup
    assert await service.recover(min_age=120) == []  # too fresh: Asterisk may still be writing
    assert await service.recover(min_age=0) == [pending.rec_id]
    row = await reclab.row_for(call_id)
    assert row["kind"] == "recovered" and row["agents"] == [] and row["status"] == "ok"
    assert not caller_file.exists() and (reclab.folder / row["file"]).is_file()
    async with reclab.http("a1") as http:  # who answered is unknown: supervisors only
        async with http.get(f"/api/recordings/{row['id']}/audio") as resp:
            assert resp.status == 403


async def test_a_call_forwarded_to_a_department_is_recorded(reclab):
    """A line before its effective date goes to the department's own number (Dial, kind forward)."""
    since = len(reclab.ami.events)
    await reclab.ami.originate("12318", caller_context="hotline-testcall",
                               variables={"HOTLINE_TEST_SAY": "hotline/rec-caller", "HOTLINE_TEST_HOLD": "1"})
    outside = await reclab.ami.wait_for(lambda e: e.get("UserEvent") == "SimOutside" and e.get("Number") == "12318",
                                        since=since)
    row = await reclab.row_for(outside["Linkedid"])
    assert row["kind"] == "forward" and row["agents"] == [] and row["status"] == "ok"
    (caller_ch, far_ch), rate = read_channels(reclab.folder / row["file"])
    assert goertzel_share(caller_ch, rate, CALLER_HZ) > 0.4
    assert goertzel_share(far_ch, rate, CALLER_HZ) < 0.02   # the department's side is silent
