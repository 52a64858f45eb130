"""End to end with a real SIP phone: baresip calls an old number over SIP/RTP
on 127.0.0.1, hears the merged prompt, and lands in the 12345 general queue.

Nothing is simulated between the phone and the plan: the INVITE reaches the
center's PJSIP `anonymous` endpoint, the generated hotline-inbound context asks
the real server (FastAGI) and carries out its decision, and the audio the
phone decoded from Asterisk's RTP is what is checked for the prompt.
"""
from __future__ import annotations

import datetime as dt
import random

import pytest

from tests.support.audio import contains
from tests.support.sip_phone import dial

pytestmark = pytest.mark.asterisk

SH = dt.timezone(dt.timedelta(hours=8))
IN_TRANSITION = dt.datetime(2026, 12, 20, 10, 0, tzinfo=SH)  # 12312 整体并入, transition: prompt, then 12345
HOLD = 17            # the merged prompt lasts ~12 s; the caller stays on a little longer
PROMPT_MATCH = 0.8


async def test_sip_phone_to_12312_hears_prompt_and_lands_in_12345(hotline_server, center, center_ami, tmp_path):
    await hotline_server(at=IN_TRANSITION)  # FastAGI in its worker process, as in production
    caller = f"1391{random.randrange(10**7):07d}"  # marks this call's channel in the AMI events
    since = len(center_ami.events)

    async with dial(tmp_path / "phone", f"sip:12312@127.0.0.1:{center.sip_port}",
                    caller=caller, seconds=HOLD) as call:
        result = await call
    assert result.returncode == 0 and result.established, f"baresip:\n{result.log[-2000:]}"

    events = center_ami.events[since:]
    new = [e for e in events if e.get("Event") == "Newchannel" and e.get("CallerIDNum") == caller]
    assert new, "the SIP call never created a channel in Asterisk"
    channel, linkedid = new[0]["Channel"], new[0]["Linkedid"]
    assert channel.startswith("PJSIP/anonymous-"), channel
    mine = [e for e in events if e.get("Linkedid") == linkedid]

    got = {e["Variable"].lstrip("_"): e.get("Value") or "" for e in mine if e.get("Event") == "VarSet"}
    assert got.get("HOTLINE_DIALED") == "12312"
    assert got.get("HOTLINE_LINE") == "commerce-12312"
    assert got.get("HOTLINE_DEPARTMENT") == "市商务局"
    assert (got.get("HOTLINE_MODE"), got.get("HOTLINE_PHASE")) == ("full_merge", "transition")
    assert got.get("HOTLINE_ACTION") == "prompt_then_forward"
    assert "HOTLINE_FALLBACK" not in got, "the call took the fail-safe, not the plan"

    # What the phone decoded from Asterisk's RTP holds the prompt, beginning and end.
    assert result.heard is not None, "baresip recorded nothing"
    prompt = center.sounds / "merged-commerce-12312.wav"
    for skip in (0.2, 9.0):
        score = contains(result.heard, prompt, seconds=1.5, skip=skip)
        assert score >= PROMPT_MATCH, f"prompt at {skip} s not heard by the phone (match {score:.2f})"

    # Then into 12345: the general queue, on this very SIP channel, after the prompt.
    played = [i for i, e in enumerate(mine) if e.get("Event") == "Newexten"
              and e.get("Application") in ("Playback", "ControlPlayback")
              and e.get("AppData", "").startswith("hotline/merged-commerce-12312")]
    joined = [i for i, e in enumerate(mine) if e.get("Event") == "QueueCallerJoin"
              and e.get("Queue") == "hotline-general" and e.get("Channel") == channel]
    assert played and joined and played[0] < joined[0], "the caller did not reach hotline-general after the prompt"

    # The phone ended the call (BYE): the channel driver asked for the hangup, not the dialplan.
    await center_ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == channel,
                              timeout=5, since=since)
    asked = [e for e in center_ami.events[since:] if e.get("Event") == "HangupRequest" and e.get("Channel") == channel]
    assert asked, "Asterisk, not the phone, ended the call"
