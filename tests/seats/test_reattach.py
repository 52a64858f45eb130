"""A page reload during a call re-attaches the call (INVITE with Replaces): the caller stays on,
the reloaded page is in the call again and hears the caller."""
from __future__ import annotations

import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.seats.conftest import PASSWORDS
from tests.seats.test_browser_seat import (CALLER_TONE, FLAGS, OFF_TONE, WebThread, chromium, media_flags,
                                           phone_state, seat_web_config, wait_text)
from tests.support.web_support import TOKEN


def _hears_caller(driver) -> bool:
    on = driver.execute_script(f"return window.hotlinePhone.tonePower({CALLER_TONE})")
    off = driver.execute_script(f"return window.hotlinePhone.tonePower({OFF_TONE})")
    return on is not None and on > -70 and on - off > 20


def _caller_channels(inst) -> list[str]:
    """The caller's half of the queue call (Local/s@test-seat-queue-XXXX;2) while it lives."""
    return sorted(line.split("!")[0] for line in inst.rx("core show channels concise").splitlines()
                  if line.startswith("Local/s@test-seat-queue"))


def test_reload_mid_call_reattaches_the_call(seat_center, tone_wav, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_AGENT_PASSWORDS", f"agent1001={PASSWORDS['agent1001']}")
    seat_center.rx("channel request hangup all")
    with WebThread(seat_web_config(seat_center), ami_of=seat_center) as base, \
            chromium(tmp_path / "profile", FLAGS + media_flags(tone_wav)) as driver:
        driver.get(f"{base}/console/?token={TOKEN['agent1001']}")
        wait_text(driver, "phone-state", "话机就绪", timeout=20)
        seat_center.rx("channel originate Local/s@test-seat-queue/n extension s@test-seat-caller")
        wait_text(driver, "phone-ring", "13912345678", timeout=20)
        driver.find_element(By.ID, "phone-answer").click()
        wait_text(driver, "phone-state", "通话中", timeout=15)
        WebDriverWait(driver, 15, poll_frequency=0.3).until(_hears_caller, "no caller tone before the reload")
        callers = _caller_channels(seat_center)
        assert callers, seat_center.rx("core show channels concise")

        driver.refresh()
        wait_text(driver, "phone-state", "通话中", timeout=25)
        assert phone_state(driver)["reattached"] and phone_state(driver)["inCall"]
        WebDriverWait(driver, 15, poll_frequency=0.3).until(_hears_caller, "the re-attached page hears no caller")
        assert _caller_channels(seat_center) == callers  # the same caller, never dropped
        for button in ("phone-hold", "phone-mute", "phone-hangup"):
            assert driver.find_element(By.ID, button).is_displayed()
        agents = [ln for ln in seat_center.rx("core show channels concise").splitlines() if ln.startswith("PJSIP/agent1001")]
        assert len(agents) == 1, agents  # the old leg was replaced, not left behind
        driver.find_element(By.ID, "phone-hangup").click()
        wait_text(driver, "phone-state", "话机就绪", timeout=10)
        deadline = time.monotonic() + 10
        while _caller_channels(seat_center) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _caller_channels(seat_center)
