"""A three-way transfer started from a browser seat's page reaches the tax sub-center, and the
sub-center hears the caller. The transfer lab (tests/transfer/support.py: center + sub-center,
the real server with FastAGI, tracker and transfer service) with one browser seat, g3, whose
phone is a real Chromium; the console's pop shows the call and its transfer progress.

The lab's server runs in this test's event loop: every blocking WebDriver call goes through
a thread (`_in_thread`) so the server keeps serving the page meanwhile.
"""
from __future__ import annotations

import asyncio
import os
import subprocess

import pytest
from selenium.webdriver.common.by import By

from tests.seats.test_browser_seat import FLAGS, chromium, media_flags
from tests.support.asterisk_harness import free_port
from tests.transfer.support import CALLER_HZ, TOKENS, Lab, tone_flowing
from transfer.dialplan import render_agent_auth

pytestmark = pytest.mark.asterisk

SEAT, SEAT_TOKEN, SEAT_PASSWORD = "g3", "tok-browser-seat-g3-0123456789", "seat-g3-password-0123"
BROWSER_HZ = 600  # not the caller's 1 kHz: what the sub-center hears must be the caller


class SeatLab(Lab):
    """The transfer lab with g3 as a browser seat of the general queue."""

    def load(self):
        config = super().load()
        queues = [q.model_copy(update={"members": [f"PJSIP/{SEAT}"]}) if q.id == "general" else q
                  for q in config.queues]
        port = free_port()
        webrtc = config.webrtc.model_copy(update={"agents": [SEAT], "http_port": port,
                                                  "ws_url": f"ws://127.0.0.1:{port}/ws"})
        web = config.web.model_copy(update={"tokens": {**TOKENS, SEAT_TOKEN: SEAT}})
        return config.model_copy(update={"queues": queues, "webrtc": webrtc, "web": web})

    async def start(self) -> None:
        write = self.center.write_config
        auth, _ = render_agent_auth(self.load(), env={"HOTLINE_AGENT_PASSWORDS": f"{SEAT}={SEAT_PASSWORD}"})
        self.center.write_config = lambda files: write(files | {"pjsip_agents_auth.conf": auth})
        await super().start()


async def _in_thread(fn, *args):
    return await asyncio.to_thread(fn, *args)


async def _until(driver, script: str, timeout: float = 20):
    for _ in range(int(timeout / 0.2)):
        value = await _in_thread(driver.execute_script, script)
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"never true: {script}")


def _text(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


async def test_threeway_from_the_page_reaches_the_subcenter(tmp_path):
    tone = tmp_path / "mic.wav"
    subprocess.run(["sox", "-n", "-r", "48000", "-c", "1", "-b", "16", str(tone), "synth", "90", "sine",
                    str(BROWSER_HZ), "vol", "0.5"], check=True)
    old = os.environ.get("HOTLINE_AGENT_PASSWORDS")
    os.environ["HOTLINE_AGENT_PASSWORDS"] = f"{SEAT}={SEAT_PASSWORD}"  # what the server hands the page
    lab = SeatLab(tmp_path / "lab")
    (tmp_path / "lab").mkdir()
    try:
        await lab.start()
        await lab.set_subcenter(SIM_MODE="answer", SIM_SAY="hotline/xfer-subcenter", SIM_HOLD="60",
                                SIM_RECORD="1", SIM_DELAY="")
        with chromium(tmp_path / "profile", FLAGS + media_flags(tone)) as driver:
            await _in_thread(driver.get, f"http://127.0.0.1:{lab.web_port}/console/?token={SEAT_TOKEN}")
            await _until(driver, "return document.getElementById('phone-agent-state').textContent.includes('示闲')")
            call = await lab.place("12333")  # 人社 line: expert seats empty -> the general pool (g3)
            await _until(driver, "return window.hotlinePhone.state().ringing", timeout=30)
            await _until(driver, "return document.getElementById('pop-caller').textContent.includes('139')")
            await _in_thread(lambda: driver.find_element(By.ID, "phone-answer").click())
            await _until(driver, "return window.hotlinePhone.state().inCall")
            await lab.owned_by(call, SEAT)
            await _until(driver, "return !document.getElementById('btn-subcenter').disabled")
            assert "税务分中心" in await _in_thread(_text, driver, "x-subcenter")

            sub_since = len(lab.sub_ami.events)
            await _in_thread(lambda: driver.find_element(By.ID, "btn-subcenter").click())  # 三方转接 (default)
            sub = await lab.subcenter_answer(since=sub_since)
            await lab.until_status(call, "connected")
            assert await tone_flowing(lab.subcenter_heard(sub), CALLER_HZ) > 0.3  # the sub-center hears the caller
            await _until(driver, "return document.getElementById('transfer-status').textContent.includes('税务分中心')")
            assert await _in_thread(lambda: driver.find_element(By.ID, "btn-complete").is_displayed())
            await _in_thread(lambda: driver.find_element(By.ID, "phone-hangup").click())
    finally:
        await lab.hangup_all()
        await lab.stop()
        if old is None:
            os.environ.pop("HOTLINE_AGENT_PASSWORDS", None)
        else:
            os.environ["HOTLINE_AGENT_PASSWORDS"] = old
