"""Speech in the running product: a caller's words are transcribed live during
the call and reach the websocket; an emergency phrase hands the call to 119
and the caller is never dropped."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil

import aiohttp
import pytest

from ivr.prompts import build_for
from ivr.prompts.build import install
from tests.support.asterisk_harness import free_port
from tests.support.routing_calls import collect, place
from tests.support.web_support import events_within
from tests.support.speech_audio import convert, ko_model, speak

pytestmark = pytest.mark.asterisk

SUPERVISOR = {"tok-supervisor-0123456789": "sup1"}
SH = dt.timezone(dt.timedelta(hours=8))


def speech_overrides() -> dict:
    return {"speech.enabled": True, "speech.model": str(ko_model()), "speech.workers": 1,
            "speech.live_port": free_port(), "speech.intake_seconds": 12, "speech.backlog_seconds": 30,
            "hotline.entry.speech_intake": True, "web.tokens": SUPERVISOR, "web.supervisors": ["sup1"]}


async def test_caller_speech_reaches_the_websocket_live_during_the_call(hotline_server, center, center_ami, tmp_path):
    # FastAGI in its worker process, as in production: the intake address reaches it at start
    server = await hotline_server(at=dt.datetime(2026, 12, 1, 9, 0, tzinfo=SH), **speech_overrides())
    assert server.services.speech.live is not None, "the speech feature did not start"
    prompts = build_for(server.config, out_dir=tmp_path / "prompts")  # adds the intake prompt
    install(tmp_path / "prompts", center.sounds)
    index = json.loads((tmp_path / "prompts" / "index.json").read_text())
    # speak once the welcome and "please state your matter" prompts are over
    speak_at = (index["welcome"]["ms"] + index["intake"]["ms"]) / 1000 + 1.5
    assert "intake" in prompts.built + prompts.unchanged
    voice = convert(speak("안녕하세요 수도가 나오지 않습니다 도와주세요", tmp_path / "ko.wav"), tmp_path / "ko8k.wav", 8000)
    shutil.copy(voice, center.sounds / "caller-voice.wav")
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"http://127.0.0.1:{server.web_port}/ws?token=tok-supervisor-0123456789&last_event_id=0")
        since = len(center_ami.events)
        call = await place(center_ami, "12345", hold=30, say="hotline/caller-voice", say_after=speak_at)
        events = await events_within(ws, speak_at + 14)
        await collect(center_ami, [call], settle=0, since=since)
        await ws.close()
    center.rx("channel request hangup all")
    mine = [e for e in events if e["call_id"] == call.linkedid and e["kind"] == "update"]
    transcripts = [e["payload"]["transcript"] for e in mine if "transcript" in e["payload"]]
    partials = [t["partial"] for t in transcripts if "partial" in t]
    finals = [t["final"] for t in transcripts if "final" in t]
    assert partials, f"no partial text reached the websocket during the call: {mine}"
    assert finals and any(f.strip() for f in finals), transcripts
    # the live text arrived while the caller was still on the line, before the hangup pop
    hangup_ids = [e["id"] for e in events if e["call_id"] == call.linkedid and e["kind"] == "hangup"]
    first_partial = next(e["id"] for e in mine if "partial" in e["payload"].get("transcript", {}))
    assert not hangup_ids or first_partial < hangup_ids[0]
    assert any("ticket" in e["payload"] for e in mine), "no ticket draft followed the final text"
    assert call.apps("EAGI"), "the intake step did not run"


async def test_emergency_phrase_hands_the_call_to_119_and_keeps_the_caller(hotline_server, center, center_ami):
    server = await hotline_server(**speech_overrides() | {"hotline.entry.speech_intake": False})
    server.clock.now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=SH)
    since = len(center_ami.events)
    call = await place(center_ami, "12119", hold=25)  # 森林草原火警 line, in its transition
    await collect(center_ami, [call], settle=16, since=since)  # merged prompt, then waiting for 12345
    assert "hotline-general" in call.queues_joined()
    # what Vosk would give for a Chinese caller (the Korean test model cannot say it)
    await server.services.speech.on_text(call.linkedid, "final", "喂 山上 着火了 快 来人")
    outside = await center_ami.wait_for(
        lambda e: e.get("UserEvent") == "SimOutside" and e.get("Number") == "119",
        timeout=15, since=since)
    assert outside
    await asyncio.sleep(2)
    status = center.rx("core show channels concise")
    caller_leg = [ln for ln in status.splitlines() if ln.startswith("Local/12119@hotline-inbound") and ";2!" in ln]
    assert caller_leg, f"the caller was dropped:\n{status}"
    center.rx("channel request hangup all")
