"""Real Asterisk: with `recordings.notice: true` a caller to a recorded queue hears
「为保证服务质量，您的通话可能会被录音」 before anyone answers; with it off, or on an
opted-out queue, the caller never hears it. Asserted on the audio the caller received."""
from __future__ import annotations

import pytest

from recordings import files
from tests.support.audio import contains

pytestmark = pytest.mark.asterisk

HEARD = 0.8      # normalised correlation of the prompt in what the caller heard (as tests/support/routing_calls.py)
NOT_HEARD = 0.5  # unrelated audio (tones, silence) scores far below


async def _heard(lab, number: str) -> tuple[str, str]:
    """Place a call, let it end; (what the caller heard: WAV path, the call id)."""
    tag, call_id, _since = await lab.place(number, hold=7)  # the notice takes ~4 s of the call
    await lab.ended(call_id, timeout=30)
    path = lab.heard(tag)
    assert await files.wait_closed([path], 10), f"{path} not closed"
    return path, call_id


def _answered_by(lab, call_id: str) -> list[str]:
    return [e["Agent"] for e in lab.ami.events if e.get("UserEvent") == "RecAgent" and e.get("Linkedid") == call_id]


async def test_caller_hears_the_notice_before_the_agent(heardlab):
    heard, call_id = await _heard(heardlab, "12345")
    assert contains(heard, heardlab.notice_wav, seconds=2.0) > HEARD
    # the recording starts when the agent answers: the notice came before, so it is not in it
    row = await heardlab.row_for(call_id)
    assert row["status"] == "ok" and row["agents"] == ["a1"]
    assert contains(heardlab.folder / row["file"], heardlab.notice_wav, seconds=2.0) < NOT_HEARD


async def test_opted_out_queue_plays_no_notice(heardlab):
    heard, call_id = await _heard(heardlab, "12399")
    assert _answered_by(heardlab, call_id) == ["a2"]  # the caller did reach an agent
    assert contains(heard, heardlab.notice_wav, seconds=2.0) < NOT_HEARD
    assert not list(heardlab.folder.glob(f"{call_id}-*"))


async def test_no_notice_when_it_is_off(reclab, heardlab):
    """The package's other center records with `notice: false`: same prompt, never played."""
    heard, call_id = await _heard(reclab, "12345")
    assert _answered_by(reclab, call_id) == ["a1"]
    assert contains(heard, heardlab.notice_wav, seconds=2.0) < NOT_HEARD
    assert (await reclab.row_for(call_id))["status"] == "ok"
