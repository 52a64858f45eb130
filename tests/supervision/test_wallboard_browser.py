"""The wallboard in real headless Chromium against a real center: a caller waiting and an agent's
示忙 reason are on the page within a second of Asterisk reporting them."""
from __future__ import annotations

import asyncio
import time

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.supervision_lab import TOKENS
from tests.web.test_console_browser import chromium

pytestmark = pytest.mark.asterisk
SUP = next(t for t, a in TOKENS.items() if a == "sup")


def cell(driver, selector: str) -> str:
    """The element's text, read in one script call (the page redraws every snapshot: no stale handles)."""
    return driver.execute_script("const e = document.querySelector(arguments[0]); return e ? e.textContent : '';",
                                 selector)


def until(driver, selector: str, expected: str, timeout: float) -> float:
    """Seconds until `selector` shows `expected` (blocking: run it in a thread)."""
    t0 = time.monotonic()
    WebDriverWait(driver, timeout, poll_frequency=0.05).until(
        lambda d: expected in cell(d, selector), f"{selector} never showed {expected!r}: {cell(driver, selector)!r}")
    return time.monotonic() - t0


async def test_waiting_caller_and_pause_reason_within_a_second(lab, tmp_path):
    await lab.login("g2")
    await lab.ami.action({"Action": "QueuePause", "Interface": "Local/g2@sim-agents/n", "Paused": "true",
                          "Reason": "培训"}, as_list=False)
    base = f"http://127.0.0.1:{lab.server.web_port}"
    with chromium(tmp_path / "profile") as driver:
        await asyncio.to_thread(driver.get, f"{base}/wallboard/?token={SUP}")
        await asyncio.to_thread(until, driver, "#status", "实时", 10)
        await asyncio.to_thread(until, driver, 'tr[data-agent="g2"] .reason', "培训", 5)
        assert cell(driver, 'tr[data-agent="g1"] .state') == "未签入"          # known from config, not in a queue
        assert cell(driver, 'tr[data-queue="general"] .waiting') == "0"

        since = len(lab.ami.events)
        await lab.ami.originate("12345", caller_context="hotline-testcall", variables={"HOTLINE_TEST_HOLD": "30"})
        await lab.ami.wait_for(lambda e: e.get("Event") == "QueueCallerJoin", since=since)
        took = await asyncio.to_thread(until, driver, 'tr[data-queue="general"] .waiting', "1", 1.0)
        assert took <= 1.0

        since = len(lab.ami.events)
        await lab.ami.action({"Action": "QueuePause", "Interface": "Local/g2@sim-agents/n", "Paused": "true",
                              "Reason": "会议"}, as_list=False)
        await lab.ami.wait_for(lambda e: e.get("Event") == "QueueMemberPause", since=since)
        took = await asyncio.to_thread(until, driver, 'tr[data-agent="g2"] .reason', "会议", 1.0)
        assert took <= 1.0 and cell(driver, 'tr[data-agent="g2"] .state') == "示忙"
        driver.save_screenshot(str(tmp_path / "wallboard.png"))

        # g1 signs in and takes the waiting caller; the supervisor whispers from the board's button.
        await lab.login("g1")
        await asyncio.to_thread(until, driver, 'tr[data-agent="g1"] .state', "通话中", 10)
        since = len(lab.ami.events)
        await asyncio.to_thread(driver.execute_script, "document.querySelector('tr[data-agent=\"g1\"] button.whisper').click()")
        await lab.ami.wait_for(lambda e: e.get("UserEvent") == "HotlineSupervise" and e.get("Mode") == "whisper", since=since)
        await asyncio.to_thread(until, driver, "#notice", "密语 g1", 5)
