"""The decisive test: a real headless Chromium is the agent's phone against real Asterisk.

The page logs in with the agent's token, registers over SIP-over-WebSocket, a
citizen's call into the general queue rings in the page, the test clicks
answer, and both directions of audio are checked: the caller (Asterisk)
records what it hears and finds the browser's 1000 Hz tone (the fake
microphone), and the page's AnalyserNode finds the caller's 700 Hz tone.
"""
from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from ivr.ami.client import AmiClient
from ivr.calls.tracker import CallTracker
from ivr.config.model import Config
from ivr.seats import plugin as seats_plugin
from tests.support.audio import read_wav
from tests.seats.conftest import BROWSER_TONE, PASSWORDS, ws_url_of
from tests.seats.ws_proxy import WsRelay
from tests.support.sip_phone import BARESIP, write_config, write_voice
from tests.web.test_console_browser import FLAGS, chromium, text_of, wait_text
from tests.support.web_support import TOKEN, city_config, serve, services

CALLER_TONE, OFF_TONE = 700, 1300


def seat_web_config(inst, ws_url: str | None = None) -> Config:
    data = city_config().model_dump()
    data["queues"][0]["members"] = ["PJSIP/agent1001", "PJSIP/agent1002"]
    data["webrtc"] = {"agents": ["agent1001"], "ws_url": ws_url or ws_url_of(inst)}
    return Config.model_validate(data)


class WebThread:
    """The real web app (with the seat routes) in its own loop, so WebDriver calls never stall it."""

    def __init__(self, config: Config, ami_of=None, store=None, tracker: bool = False) -> None:
        """ami_of: an Instance whose AMI the app's services get (for 示忙/示闲); store: their database;
        tracker: the real AMI call tracker publishes the pops (needs both); `published` keeps its events."""
        self.config, self.ami_of, self.store, self.tracker = config, ami_of, store, tracker
        self.published: list[tuple[str, str | None, dict]] = []
        self.loop, self.base = asyncio.new_event_loop(), Future()
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        ami = None
        if self.ami_of is not None:
            i = self.ami_of
            ami = AmiClient("127.0.0.1", i.ami_port, i.ami_user, i.ami_secret)
            await ami.connect()
            assert await ami.wait_connected(10), "AMI did not connect"
        tracker = None
        try:
            svc = services(ami=ami, store=self.store)
            self.services = svc
            if self.tracker:
                tracker = await start_tracker(self.config, self.store, svc.hub, ami, self.published)
            async with serve(svc, self.config, plugins=[seats_plugin.load]) as base:
                self.base.set_result(base)
                await self._stop.wait()
        finally:
            if tracker is not None:
                await tracker.stop()
            if ami is not None:
                await ami.close()

    def __enter__(self) -> str:
        self.thread.start()
        return self.base.result(10)

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(10)
        self.loop.close()


async def start_tracker(config: Config, store, hub, ami, published: list):
    """The real call tracker on `ami`, publishing pops to `hub` and noting each (kind, agent, payload)."""
    async def publish(agent, kind, payload):
        published.append((kind, agent, dict(payload)))
        await hub.publish(agent, kind, payload)
    tracker = CallTracker.from_config(config, store, publish, model=hub.calls)  # one model, as the server
    tracker.attach(ami)
    await tracker.start()
    return tracker


def media_flags(tone: Path) -> list[str]:
    return ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={tone}", "--allow-loopback-in-peer-connection",
            "--autoplay-policy=no-user-gesture-required"]


def phone_state(driver) -> dict:
    return driver.execute_script("return window.hotlinePhone && window.hotlinePhone.state()") or {}


def goertzel_ratio(samples: np.ndarray, rate: int, freq: float, off: float) -> float:
    """Energy at `freq` over energy at `off` (a frequency nobody sends)."""
    def power(f: float) -> float:
        n = np.arange(len(samples))
        return float(np.abs(np.sum(samples * np.exp(-2j * np.pi * f * n / rate))) ** 2)
    return power(freq) / max(power(off), 1e-9)


def test_call_rings_in_the_page_and_audio_flows_both_ways(seat_center, tone_wav, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_AGENT_PASSWORDS", f"agent1001={PASSWORDS['agent1001']}")
    heard = seat_center.host / "recordings" / "seat-heard.wav"
    heard.unlink(missing_ok=True)
    with WebThread(seat_web_config(seat_center), ami_of=seat_center) as base, \
            chromium(tmp_path / "profile", FLAGS + media_flags(tone_wav)) as driver:
        driver.get(f"{base}/console/?token={TOKEN['agent1001']}")
        wait_text(driver, "phone-state", "话机就绪", timeout=20)
        assert "Contact:  agent1001/sip:" in seat_center.rx("pjsip show contacts")

        seat_center.rx("channel originate Local/s@test-seat-queue/n extension s@test-seat-caller")
        wait_text(driver, "phone-ring", "13912345678", timeout=20)
        assert driver.find_element(By.ID, "phone-ring").is_displayed()
        assert phone_state(driver)["ringing"]
        driver.find_element(By.ID, "phone-answer").click()
        wait_text(driver, "phone-state", "通话中", timeout=15)

        # the page hears the caller's 700 Hz, well above a frequency nobody sends
        def hears_caller(d) -> bool:
            on = d.execute_script(f"return window.hotlinePhone.tonePower({CALLER_TONE})")
            off = d.execute_script(f"return window.hotlinePhone.tonePower({OFF_TONE})")
            return on is not None and on > -70 and on - off > 20
        WebDriverWait(driver, 15, poll_frequency=0.3).until(hears_caller, "the page never heard the caller's tone")
        for button in ("phone-hold", "phone-mute", "phone-hangup"):
            assert driver.find_element(By.ID, button).is_displayed()
        time.sleep(3)  # let the caller record a few seconds of the agent
        driver.find_element(By.ID, "phone-hangup").click()
        wait_text(driver, "phone-state", "话机就绪", timeout=10)

    deadline = time.monotonic() + 10
    while "0 active channels" not in seat_center.rx("core show channels count") and time.monotonic() < deadline:
        time.sleep(0.2)
    samples, rate = read_wav(heard)
    assert len(samples) > rate * 2, "the caller recorded less than 2 s"
    # the caller hears the browser's microphone (1000 Hz), not just noise
    assert goertzel_ratio(samples, rate, BROWSER_TONE, OFF_TONE) > 100
    # ... and it is the received leg only: the caller's own 700 Hz is not in it
    assert goertzel_ratio(samples, rate, CALLER_TONE, OFF_TONE) < 10


def test_wrong_password_shows_its_message(seat_center, tone_wav, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_AGENT_PASSWORDS", "agent1001=not-the-password")
    with WebThread(seat_web_config(seat_center), ami_of=seat_center) as base, \
            chromium(tmp_path / "profile", FLAGS + media_flags(tone_wav)) as driver:
        driver.get(f"{base}/console/?token={TOKEN['agent1001']}")
        wait_text(driver, "phone-error", "话机密码错误", timeout=20)
        assert not phone_state(driver)["registered"]
        # typing the right one registers
        driver.find_element(By.ID, "phone-password").send_keys(PASSWORDS["agent1001"])
        driver.find_element(By.CSS_SELECTOR, "#phone-login button").click()
        wait_text(driver, "phone-state", "话机就绪", timeout=20)
        assert text_of(driver, "phone-error") == ""


def test_denied_microphone_shows_its_message(seat_center, tmp_path, monkeypatch):
    """No fake-UI flag: headless Chromium denies the microphone prompt."""
    monkeypatch.setenv("HOTLINE_AGENT_PASSWORDS", f"agent1001={PASSWORDS['agent1001']}")
    with WebThread(seat_web_config(seat_center), ami_of=seat_center) as base, \
            chromium(tmp_path / "profile", FLAGS + ["--deny-permission-prompts"]) as driver:
        driver.get(f"{base}/console/?token={TOKEN['agent1001']}")
        wait_text(driver, "phone-error", "无法使用麦克风", timeout=20)
        assert not phone_state(driver)["registered"]


def test_desk_phone_agent_is_told_and_gets_no_phone_controls(seat_center, tone_wav, tmp_path):
    with WebThread(seat_web_config(seat_center), ami_of=seat_center) as base, \
            chromium(tmp_path / "profile", FLAGS + media_flags(tone_wav)) as driver:
        driver.get(f"{base}/console/?token={TOKEN['agent1002']}")
        wait_text(driver, "phone-state", "本座席使用桌面话机", timeout=20)
        assert text_of(driver, "phone-error") == "" and not driver.find_element(By.ID, "phone-pause").is_displayed()


def test_mute_dtmf_and_hold_reach_the_caller(seat_center, tone_wav, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_AGENT_PASSWORDS", f"agent1001={PASSWORDS['agent1001']}")
    rec = seat_center.host / "recordings"
    for name in ("seat-keys-before.wav", "seat-keys-after.wav"):
        (rec / name).unlink(missing_ok=True)
    with WebThread(seat_web_config(seat_center), ami_of=seat_center) as base, \
            chromium(tmp_path / "profile", FLAGS + media_flags(tone_wav)) as driver:
        driver.get(f"{base}/console/?token={TOKEN['agent1001']}")
        wait_text(driver, "phone-state", "话机就绪", timeout=20)
        seat_center.rx("channel originate Local/s@test-seat-queue/n extension s@test-seat-caller-keys")
        wait_text(driver, "phone-ring", "13912345678", timeout=20)
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.F2)  # the answer shortcut
        wait_text(driver, "phone-state", "通话中", timeout=15)
        time.sleep(3)  # the caller records the agent's voice for a while

        driver.find_element(By.ID, "phone-hold").click()
        wait_text(driver, "phone-state", "已保持", timeout=10)
        assert text_of(driver, "phone-hold") == "恢复 Resume"
        driver.find_element(By.ID, "phone-hold").click()
        wait_text(driver, "phone-state", "通话中", timeout=10)

        driver.find_element(By.ID, "phone-mute").click()
        assert phone_state(driver)["muted"] and text_of(driver, "phone-mute") == "取消静音 Unmute"
        for digit in "159":
            driver.find_element(By.CSS_SELECTOR, f'#phone-keypad button[data-digit="{digit}"]').click()
            time.sleep(0.4)
        deadline = time.monotonic() + 10
        while "159" not in seat_center.rx("dialplan show globals") and time.monotonic() < deadline:
            time.sleep(0.3)
        assert "SEAT_KEYS=159" in seat_center.rx("dialplan show globals")
        wait_text(driver, "phone-state", "话机就绪", timeout=15)  # the caller hung up

    before, rate = read_wav(rec / "seat-keys-before.wav")
    after, _ = read_wav(rec / "seat-keys-after.wav")
    assert goertzel_ratio(before, rate, BROWSER_TONE, OFF_TONE) > 100  # heard before mute
    assert len(after) > rate * 2
    assert goertzel_ratio(after, rate, BROWSER_TONE, OFF_TONE) < 10  # muted: the tone is gone


def test_lost_websocket_is_shown_and_the_phone_registers_again(seat_center, tone_wav, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_AGENT_PASSWORDS", f"agent1001={PASSWORDS['agent1001']}")
    with WsRelay(ws_url_of(seat_center)) as relay:
        config = seat_web_config(seat_center, relay.url.result())
        with WebThread(config, ami_of=seat_center) as base, chromium(tmp_path / "profile", FLAGS + media_flags(tone_wav)) as driver:
            driver.get(f"{base}/console/?token={TOKEN['agent1001']}")
            wait_text(driver, "phone-state", "话机就绪", timeout=20)
            relay.cut()
            wait_text(driver, "phone-error", "连接已断开，正在自动重连", timeout=10)
            assert not phone_state(driver)["registered"]
            time.sleep(3)  # a retry or two is refused meanwhile
            relay.restore()
            wait_text(driver, "phone-state", "话机就绪", timeout=40)  # back-off is at most 30 s
            assert text_of(driver, "phone-error") == ""
            assert relay.connections >= 2
            assert "Contact:  agent1001/sip:" in seat_center.rx("pjsip show contacts")


@contextmanager
def desk_phone(folder: Path, inst, agent: str, password: str) -> Iterator[Path]:
    """baresip registered as a desk-phone agent, answering every call by itself; yields its log."""
    folder.mkdir(parents=True, exist_ok=True)
    write_config(folder, agent, write_voice(folder / "voice.wav", 60))
    (folder / "accounts").write_text(f"<sip:{agent}@127.0.0.1:{inst.sip_port}>;auth_pass={password};"
                                     "regint=60;answermode=auto\n")
    log = folder / "baresip.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([BARESIP, "-f", str(folder)], stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield log
    finally:
        proc.kill()
        proc.wait(10)


def agent_channels(inst) -> str:
    return inst.rx("core show channels concise")


def up_agents(inst) -> set[str]:
    """Agents' phones with an answered call: {"PJSIP/agent1001", ...}."""
    return {line.split("-")[0] for line in agent_channels(inst).splitlines()
            if line.startswith("PJSIP/agent") and "!Up!" in line}


def test_browser_seat_and_desk_phone_in_one_queue_both_get_calls(seat_center, tone_wav, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_AGENT_PASSWORDS", f"agent1001={PASSWORDS['agent1001']}")
    with desk_phone(tmp_path / "desk", seat_center, "agent1002", PASSWORDS["agent1002"]) as desk_log, \
            WebThread(seat_web_config(seat_center), ami_of=seat_center) as base, \
            chromium(tmp_path / "profile", FLAGS + media_flags(tone_wav)) as driver:
        driver.get(f"{base}/console/?token={TOKEN['agent1001']}")
        wait_text(driver, "phone-state", "话机就绪", timeout=20)
        deadline = time.monotonic() + 15
        while "Contact:  agent1002/sip:" not in seat_center.rx("pjsip show contacts") and time.monotonic() < deadline:
            time.sleep(0.3)
        assert "Contact:  agent1002/sip:" in seat_center.rx("pjsip show contacts"), desk_log.read_text()[-1500:]
        for n in (1, 2):  # ringinuse=no: the second call can only go to the agent still free
            seat_center.rx("channel originate Local/s@test-seat-queue/n extension s@test-wait")
            deadline = time.monotonic() + 20
            while len(up_agents(seat_center)) < n and time.monotonic() < deadline:
                if phone_state(driver).get("ringing"):
                    driver.find_element(By.ID, "phone-answer").click()
                    wait_text(driver, "phone-state", "通话中", timeout=15)
                time.sleep(0.3)
        assert up_agents(seat_center) == {"PJSIP/agent1001", "PJSIP/agent1002"}, agent_channels(seat_center)
        assert phone_state(driver)["inCall"]
        driver.find_element(By.ID, "phone-hangup").click()
        seat_center.rx("channel request hangup all")  # the desk phone's call too: leave the queue idle
