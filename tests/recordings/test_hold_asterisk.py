"""Real Asterisk + a real SIP desk phone: the agent presses 保持 (a re-INVITE with
a=sendonly, then a=sendrecv) during a recorded call; the recording's hold time
comes from the AMI Hold/Unhold that hold raises, and the QA `hold` rule fails
when it is over `max_hold` and passes for a short hold."""
from __future__ import annotations

import asyncio

import pytest

from tests.recordings.heard_lab import DESK, DESK_PASSWORD, MAX_HOLD
from tests.recordings.lab import scored
from tests.support.sip_agent import desk_phone

pytestmark = pytest.mark.asterisk


@pytest.fixture(scope="module")
async def phone(heardlab, tmp_path_factory):
    async with desk_phone(tmp_path_factory.mktemp("desk"), user=DESK, password=DESK_PASSWORD,
                          registrar=heardlab.registrar) as p:
        for _ in range(100):  # registered: Asterisk can ring the agent
            reply = await heardlab.ami.action({"Action": "Getvar", "Variable": f"DEVICE_STATE(PJSIP/{DESK})"})
            if reply.get("Value") == "NOT_INUSE":
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"the desk phone did not register:\n{p.log[-2000:]}")
        yield p


async def _hang_up(lab, call_id: str) -> None:
    listing = await lab.ami.action({"Action": "CoreShowChannels"})
    for c in [e for e in listing if e.get("Event") == "CoreShowChannel" and e.get("Linkedid") == call_id]:
        await lab.ami.action({"Action": "Hangup", "Channel": c["Channel"]})
    await lab.ended(call_id)


@pytest.mark.parametrize("hold_s", [4.0, 0.5])
async def test_hold_time_from_a_real_phone_hold(heardlab, phone, hold_s):
    lab = heardlab
    _tag, call_id, since = await lab.place("12366", hold=30)
    connect = await lab.ami.wait_for(lambda e: e.get("Event") == "AgentConnect" and e.get("Linkedid") == call_id,
                                     since=since, timeout=20)
    assert connect["Interface"] == f"PJSIP/{DESK}"

    def on_desk(name):
        return lambda e: e.get("Event") == name and e.get("Channel", "").startswith(f"PJSIP/{DESK}-")

    loop = asyncio.get_running_loop()
    start = loop.time()
    await phone.hold()
    await lab.ami.wait_for(on_desk("Hold"), since=since, timeout=10)
    await asyncio.sleep(hold_s)  # the caller waits on hold: the time itself is what is measured
    await phone.resume()
    await lab.ami.wait_for(on_desk("Unhold"), since=since, timeout=10)
    held = loop.time() - start
    await _hang_up(lab, call_id)

    row = await lab.row_for(call_id)
    assert row["agents"] == [DESK] and row["status"] == "ok"
    assert abs(row["legs"]["hold"] - held) <= 1.0, (row["legs"], held)
    qa = await scored(lab, row["id"])
    hold = next(r for r in qa["rules"] if r["rule"] == "hold")
    assert hold["passed"] is (held <= MAX_HOLD), (hold, held)
    assert f"保持{row['legs']['hold']:.0f}秒" in hold["detail"]
