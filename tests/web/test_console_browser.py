"""The agent console in a real headless Chromium (Debian's chromium + chromium-driver, Selenium).

The server runs in its own thread and event loop so the blocking WebDriver
calls never stall it; events are published into that loop like the tracker does.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from ivr.storage import repo
from tests.support.web_support import (CALL, CALLER, TOKEN, RecordingTransfers, pop_payload, serve, services,
                               store)  # noqa: F401 (store is a fixture)

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1440,960", "--lang=zh-CN"]


class ServerThread:
    """The real app on 127.0.0.1 in a background loop; `run(coro)` executes in that loop."""

    def __init__(self, svc) -> None:
        self.svc = svc
        self.loop = asyncio.new_event_loop()
        self.base: Future[str] = Future()
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            async with serve(self.svc) as base:
                self.base.set_result(base)
                await self._stop.wait()
        except BaseException as exc:
            if not self.base.done():
                self.base.set_exception(exc)
            raise

    def run(self, coro, timeout: float = 10.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        self.base.result(10)
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(10)
        self.loop.close()


@contextmanager
def chromium(profile: Path, flags: list[str] = FLAGS) -> Iterator[webdriver.Chrome]:
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in flags + [f"--user-data-dir={profile}"]:
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()




def text_of(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def wait_text(driver, element_id: str, expected: str, timeout: float = 10.0) -> None:
    WebDriverWait(driver, timeout).until(lambda d: expected in text_of(d, element_id),
                                         f"#{element_id} never showed {expected!r}")


def test_agent_sees_pop_saves_draft_and_transfers(tmp_path, store):
    ticket_id = store.run_sync(repo.new_ticket, call=CALL)
    store.run_sync(repo.save_ticket_draft, ticket_id, {"summary": "咨询养老保险"}, "speech")
    draft = store.run_sync(repo.ticket_draft, ticket_id)
    transfers = RecordingTransfers()
    svc = services(store=store, transfers=transfers)
    screenshot = tmp_path / "console.png"

    with ServerThread(svc) as server, chromium(tmp_path / "profile") as driver:
        base = server.base.result()
        driver.get(f"{base}/console/?token={TOKEN['agent1001']}")
        wait_text(driver, "conn", "已连接")
        assert "token" not in driver.current_url  # taken out of the address bar
        assert text_of(driver, "who") == "agent1001"
        wait_text(driver, "waiting", "等待来电")

        hub = svc.hub
        server.run(hub.publish("agent1001", "ring", pop_payload(ticket=draft)))
        wait_text(driver, "pop-caller", CALLER)  # the agent sees the full number to call back
        assert text_of(driver, "pop-status") == "振铃 Ringing"
        server.run(hub.publish("agent1001", "answer", pop_payload(ticket=draft)))
        for text in ("您好，我从外地调到白银工作，", "想问一下养老保险关系怎么转移。"):
            server.run(hub.publish("agent1001", "update", {"call_id": CALL, "transcript": {"final": text}}))
        server.run(hub.publish("agent1001", "update", {"call_id": CALL, "transcript": {"partial": "需要带什么材料"}}))
        wait_text(driver, "transcript", "需要带什么材料")
        assert text_of(driver, "pop-status") == "通话中 In call"
        assert text_of(driver, "pop-dialed") == "12333"
        assert text_of(driver, "pop-line") == "人社服务热线 (hrss-12333)"
        assert text_of(driver, "pop-department") == "市人社局"
        assert text_of(driver, "pop-mode") == "双号并行 Dual number"
        assert text_of(driver, "pop-queue") == "hrss-expert"
        assert text_of(driver, "pop-wait") == "13 秒 s"
        assert "T20261120-0003 养老保险转移咨询" in text_of(driver, "history")
        assert "想问一下养老保险关系怎么转移。" in text_of(driver, "transcript")
        assert text_of(driver, "ticket-id") == ticket_id
        summary = driver.find_element(By.ID, "t-summary")
        assert summary.get_attribute("value") == "咨询养老保险"

        # edit and save the draft
        summary.clear()
        summary.send_keys("养老保险关系转移手续咨询")
        driver.find_element(By.ID, "t-address").send_keys("白银区人民路1号")
        driver.find_element(By.ID, "ticket-save").click()
        wait_text(driver, "ticket-status", "已保存")
        saved = store.run_sync(repo.ticket_draft, ticket_id)
        assert saved["summary"] == "养老保险关系转移手续咨询"
        assert saved["address"] == "白银区人民路1号" and saved["updated_by"] == "agent1001"

        # transfer to the tax sub-center (three-way), then to 119
        driver.find_element(By.ID, "btn-subcenter").click()
        wait_text(driver, "transfer-status", "12366 税务分中心")
        WebDriverWait(driver, 10).until(lambda d: len(transfers.calls) == 1)
        assert transfers.calls == [{"call_id": CALL, "kind": "subcenter", "target": "tax",
                                    "mode": "threeway", "agent": "agent1001"}]
        wait_text(driver, "transfer-status", "已发起")
        driver.find_element(By.ID, "btn-emergency-119").click()
        WebDriverWait(driver, 10).until(lambda d: len(transfers.calls) == 2)
        assert transfers.calls[1]["target"] == "119" and transfers.calls[1]["kind"] == "emergency"

        # the transfer service reports progress; the agent can then leave the three-way call
        server.run(hub.publish("agent1001", "transfer", {"call_id": CALL, "transfer": {
            "id": 7, "kind": "subcenter", "target": "tax", "label": "12366 税务分中心", "mode": "threeway",
            "status": "answered", "message": "分中心已接听"}}))
        wait_text(driver, "transfer-status", "12366 税务分中心 (threeway): 已接通 answered — 分中心已接听")
        assert driver.find_element(By.ID, "btn-complete").is_displayed()
        server.run(hub.publish("agent1001", "notice", {"call_id": CALL, "level": "warning",
                                                       "message": "119 未接通，请重试"}))
        wait_text(driver, "notice", "119 未接通，请重试")
        driver.execute_script("window.scrollTo(0, 0)")
        assert driver.save_screenshot(str(screenshot))
        # hangup: the call stays on screen for wrap-up, marked ended
        server.run(hub.publish("agent1001", "hangup", {"call_id": CALL}))
        wait_text(driver, "pop-status", "已挂断")
    assert screenshot.stat().st_size > 10_000 and screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_token_shows_the_login_error(tmp_path):
    with ServerThread(services()) as server, chromium(tmp_path / "profile") as driver:
        driver.get(f"{server.base.result()}/console/")
        driver.find_element(By.ID, "token").send_keys("not-a-token")
        driver.find_element(By.CSS_SELECTOR, "#login-form button").click()
        wait_text(driver, "login-error", "令牌无效")
        assert not driver.find_element(By.ID, "desk").is_displayed()


def test_console_dropped_for_slowness_catches_up_exactly_once(tmp_path):
    """A burst overflows the console's queue: it is cut off (4008), reconnects and resumes."""
    svc = services()
    with ServerThread(svc) as server, chromium(tmp_path / "profile") as driver:
        driver.get(f"{server.base.result()}/console/?token={TOKEN['agent1001']}")
        wait_text(driver, "conn", "已连接")
        hub = svc.hub
        server.run(hub.publish("agent1001", "answer", pop_payload()))
        wait_text(driver, "pop-caller", CALLER)

        async def burst() -> None:  # no await in between: faster than any socket
            for i in range(300):
                hub.publish_nowait("agent1001", "update", {"call_id": CALL, "transcript": {"final": f"第{i}句"}})

        server.run(burst())
        wait_text(driver, "transcript", "第299句", timeout=20)
        assert hub.stats["overflows"] == 1  # it really was dropped and came back
        lines = [p.text for p in driver.find_elements(By.CSS_SELECTOR, "#transcript p")]
        assert lines == [f"第{i}句" for i in range(300)]  # every line once, in order
        wait_text(driver, "conn", "已连接")
