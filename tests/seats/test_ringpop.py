"""The ring and the pop of the same call; a pause set outside the page read back.

Real Asterisk and real Chromium: Asterisk's INVITE to the browser seat names the
call (X-Hotline-Call = linkedid, ivr/seats/asterisk.py), the page puts THAT call's
pop on screen (ringpop.js). Two calls waiting together ring the agent in turn, and
each ring shows its own caller's pop, the same call the real tracker published.
A `queue pause member` typed at Asterisk's CLI reaches the page, the supervisors'
board API and agent_states (ivr/seats/service.py on_member_pause).
"""
from __future__ import annotations

import time

import asyncio

import aiohttp
from selenium.webdriver.support.ui import WebDriverWait

from ivr.seats import history
from ivr.seats.asterisk import render_extensions
from ivr.seats.states import outside_reason
from ivr.storage.store import Store
from tests.seats.conftest import PASSWORDS
from tests.seats.test_browser_seat import (FLAGS, WebThread, chromium, media_flags, phone_state,
                                           seat_web_config, text_of, wait_text)
from tests.support.asterisk_harness import Ami
from tests.support.web_support import TOKEN

CALLERS = ("13900000001", "13900000002")


def test_the_seat_invite_names_the_call_with_asterisks_linkedid_only():
    text = render_extensions()
    assert "Set(PJSIP_INHERITABLE_HEADER(add,X-Hotline-Call)=${FILTER(0-9.,${CHANNEL(linkedid)})})" in text
    assert outside_reason("会议\r\nAction: Originate") == "会议Action: Originate"
    assert len(outside_reason("长" * 100)) == 40


def _ring_pop(driver) -> dict:
    return driver.execute_script("return window.hotlineRingPop && window.hotlineRingPop.state()") or {}


def _caller_channel(inst, number: str) -> str:
    for line in inst.rx("core show channels concise").splitlines():
        if line.startswith(f"Local/{number}@test-seat-named") and ";2" in line.split("!")[0]:
            return line.split("!")[0]
    return ""


def test_two_calls_ring_in_turn_each_with_its_own_pop(seat_center, tone_wav, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_AGENT_PASSWORDS", f"agent1001={PASSWORDS['agent1001']}")
    seat_center.rx("channel request hangup all")
    store = Store.open(f"sqlite:///{tmp_path / 'ringpop.db'}")
    web = WebThread(seat_web_config(seat_center), ami_of=seat_center, store=store, tracker=True)
    try:
        with web as base, chromium(tmp_path / "profile", FLAGS + media_flags(tone_wav)) as driver:
            driver.get(f"{base}/console/?token={TOKEN['agent1001']}")
            wait_text(driver, "phone-state", "话机就绪", timeout=20)
            wait_text(driver, "phone-agent-state", "示闲", timeout=10)
            asyncio.run(_citizens(seat_center, CALLERS))  # both wait in the queue together; the first rings first
            seen = []
            for number in CALLERS:
                wait_text(driver, "phone-ring", number, timeout=20)
                WebDriverWait(driver, 5, poll_frequency=0.1).until(
                    lambda d: _ring_pop(d).get("status") == "matched",
                    f"no matched pop for {number}")
                state = _ring_pop(driver)
                assert state["ringing"] == state["selected"] == phone_state(driver)["ringCallId"]
                assert number in text_of(driver, "pop-caller")
                assert "弹屏与来电一致" in text_of(driver, "ring-match")
                # the id in the INVITE is the call the tracker rang this agent with
                rings = [p for kind, agent, p in web.published if kind == "ring" and agent == "agent1001"]
                assert state["ringing"] in {p["call_id"] for p in rings}
                assert any(p["call_id"] == state["ringing"] and p.get("caller") == number for p in rings)
                seen.append(state["ringing"])
                channel = _caller_channel(seat_center, number)
                assert channel, seat_center.rx("core show channels concise")
                seat_center.rx(f"channel request hangup {channel}")  # the citizen gives up: the next one rings
            assert seen[0] != seen[1]
    finally:
        seat_center.rx("channel request hangup all")
        store.close()


def test_a_pause_set_at_the_cli_shows_in_the_page_and_the_board_and_is_stored(seat_center, tone_wav, tmp_path,
                                                                              monkeypatch):
    monkeypatch.setenv("HOTLINE_AGENT_PASSWORDS", f"agent1001={PASSWORDS['agent1001']}")
    store = Store.open(f"sqlite:///{tmp_path / 'pause.db'}")
    try:
        with WebThread(seat_web_config(seat_center), ami_of=seat_center, store=store) as base, \
                chromium(tmp_path / "profile", FLAGS + media_flags(tone_wav)) as driver:
            driver.get(f"{base}/console/?token={TOKEN['agent1001']}")
            wait_text(driver, "phone-state", "话机就绪", timeout=20)
            wait_text(driver, "phone-agent-state", "示闲", timeout=10)
            seat_center.rx("queue pause member PJSIP/agent1001 queue hotline-general reason 会议")
            start = time.monotonic()
            wait_text(driver, "phone-agent-state", "示忙 Paused（会议）", timeout=1.0)
            board = asyncio.run(_board(base))
            assert time.monotonic() - start < 1.0
            assert {"agent": "agent1001", "state": "paused", "reason": "会议"}.items() <= board["agent1001"].items()
            seat_center.rx("queue unpause member PJSIP/agent1001 queue hotline-general")
            wait_text(driver, "phone-agent-state", "示闲 Ready", timeout=2)
        rows = store.run_sync(history.states_of, "agent1001")
    finally:
        store.close()
    # 签入 when the phone registered (its own QueuePause echoes are not stored again), the CLI's 会议, 示闲
    assert [(r["state"], r["reason"]) for r in rows] == [("ready", ""), ("paused", "会议"), ("ready", "")]


async def _citizens(inst, numbers) -> None:
    """Each number calls into the general queue (AMI Originate: the caller's channel has the number)."""
    ami = await Ami(inst).connect()
    try:
        for number in numbers:
            await ami.originate(number, context="test-seat-named", caller_context="test-wait", callerid=number)
            await asyncio.sleep(0.3)  # in this order in the queue
    finally:
        ami.close()


async def _board(base: str) -> dict:
    async with aiohttp.ClientSession() as s, s.get(
            f"{base}/api/seats/states", headers={"Authorization": f"Bearer {TOKEN['super01']}"}) as r:
        assert r.status == 200
        body = await r.json()
    return {a["agent"]: a for a in body["agents"]}


def test_a_ring_whose_pop_is_late_says_so_then_shows_it_when_it_comes(seat_center, tone_wav, tmp_path, monkeypatch):
    """No tracker here: the ring names a call the page has no pop for. The banner says the
    screen is not that call's; the pop, published late on the real hub, takes the screen."""
    monkeypatch.setenv("HOTLINE_AGENT_PASSWORDS", f"agent1001={PASSWORDS['agent1001']}")
    seat_center.rx("channel request hangup all")
    web = WebThread(seat_web_config(seat_center), ami_of=seat_center)
    try:
        with web as base, chromium(tmp_path / "profile", FLAGS + media_flags(tone_wav)) as driver:
            driver.get(f"{base}/console/?token={TOKEN['agent1001']}")
            wait_text(driver, "phone-state", "话机就绪", timeout=20)
            wait_text(driver, "phone-agent-state", "示闲", timeout=10)
            asyncio.run(_citizens(seat_center, CALLERS[:1]))
            wait_text(driver, "phone-ring", CALLERS[0], timeout=20)
            wait_text(driver, "ring-match", "来电资料迟到", timeout=5)
            ringing = _ring_pop(driver)["ringing"]
            assert ringing and _ring_pop(driver)["selected"] != ringing
            web.loop.call_soon_threadsafe(web.services.hub.publish_nowait, "agent1001", "ring",
                                          {"call_id": ringing, "caller": CALLERS[0], "queue": "general"})
            wait_text(driver, "ring-match", "弹屏与来电一致", timeout=5)
            assert _ring_pop(driver)["selected"] == ringing and CALLERS[0] in text_of(driver, "pop-caller")
    finally:
        seat_center.rx("channel request hangup all")
