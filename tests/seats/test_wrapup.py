"""话后处理 on real Asterisk: with `wrapup` on the queue, the browser seat that just hung up
is not offered the next waiting call until the wrap-up time has passed (auto: then free by
itself, the bar counts it down) or until the agent clicks 示闲 (wrapup_end: manual). Both are
stored in agent_states with their start and end."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from ivr.dialplan.build import instance_files, render_queues
from ivr.seats import history
from ivr.storage.store import Store
from ivr.seats.asterisk import render_http
from tests.support.asterisk_harness import free_port, new_instance
from tests.conftest import test_files as shared_test_dialplans
from tests.seats.conftest import PASSWORDS
from tests.seats.test_browser_seat import (FLAGS, WebThread, chromium, media_flags, phone_state,
                                           seat_web_config, wait_text)
from tests.support.web_support import TOKEN
from transfer.dialplan import render_agent_auth

WRAPUP = 6


@pytest.fixture(scope="module")
def wrapup_center(seat_config):
    queues = [q.model_copy(update={"wrapup": WRAPUP}) if q.id == "general" else q for q in seat_config.queues]
    config = seat_config.model_copy(update={"queues": queues})
    assert f"wrapuptime = {WRAPUP}" in render_queues(config)
    inst = new_instance("wrapup")
    inst.http_port = free_port()
    auth, _ = render_agent_auth(config, env={"HOTLINE_AGENT_PASSWORDS": f"agent1001={PASSWORDS['agent1001']}"})
    here = {p.name: p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("*.conf")}
    inst.write_config(instance_files(config, "center") | shared_test_dialplans() | here | {
        "http_hotline.conf": render_http(config, port=inst.http_port), "pjsip_agents_auth.conf": auth})
    inst.start()
    yield inst
    inst.remove()


def test_next_call_waits_for_the_wrapup_time(wrapup_center, tone_wav, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_AGENT_PASSWORDS", f"agent1001={PASSWORDS['agent1001']}")
    config = seat_web_config(wrapup_center)
    config.queues[0].wrapup = WRAPUP
    store = Store.open(f"sqlite:///{tmp_path / 'wrapup.db'}")
    with WebThread(config, ami_of=wrapup_center, store=store) as base, chromium(tmp_path / "profile", FLAGS + media_flags(tone_wav)) as driver:
        driver.get(f"{base}/console/?token={TOKEN['agent1001']}")
        wait_text(driver, "phone-state", "话机就绪", timeout=20)
        wrapup_center.rx("channel originate Local/s@test-seat-queue/n extension s@test-wait")
        wait_text(driver, "phone-ring", "13912345678", timeout=20)
        driver.find_element(By.ID, "phone-answer").click()
        wait_text(driver, "phone-state", "通话中", timeout=15)
        time.sleep(1)
        driver.find_element(By.ID, "phone-hangup").click()
        hung_up = time.monotonic()
        wait_text(driver, "phone-agent-state", "话后处理 Wrap-up 剩余", timeout=5)
        wrapup_center.rx("channel originate Local/s@test-seat-queue/n extension s@test-wait")
        while time.monotonic() - hung_up < WRAPUP - 1.5:
            assert not phone_state(driver)["ringing"], "offered a call during 话后处理"
            time.sleep(0.3)
        wait_text(driver, "phone-ring", "13912345678", timeout=15)  # offered once wrap-up is over
        assert time.monotonic() - hung_up >= WRAPUP - 1
        wait_text(driver, "phone-agent-state", "示闲 Ready", timeout=5)
        wrapup_center.rx("channel request hangup all")
    rows = store.run_sync(history.states_of, "agent1001")
    store.close()
    assert [r["state"] for r in rows] == ["ready", "wrapup", "ready"]  # 签入, 话后处理, free again by itself
    assert abs((rows[1]["ended_at"] - rows[1]["started_at"]).total_seconds() - WRAPUP) < 1.5


def test_manual_wrapup_holds_calls_until_the_agent_clicks_ready(wrapup_center, tone_wav, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_AGENT_PASSWORDS", f"agent1001={PASSWORDS['agent1001']}")
    wrapup_center.rx("channel request hangup all")
    config = seat_web_config(wrapup_center)
    config.queues[0].wrapup = WRAPUP
    config.webrtc.wrapup_end = "manual"
    store = Store.open(f"sqlite:///{tmp_path / 'manual.db'}")
    with WebThread(config, ami_of=wrapup_center, store=store) as base, \
            chromium(tmp_path / "profile", FLAGS + media_flags(tone_wav)) as driver:
        driver.get(f"{base}/console/?token={TOKEN['agent1001']}")
        wait_text(driver, "phone-state", "话机就绪", timeout=20)
        wait_text(driver, "phone-agent-state", "示闲 Ready", timeout=10)
        wrapup_center.rx("channel originate Local/s@test-seat-queue/n extension s@test-wait")
        wait_text(driver, "phone-ring", "13912345678", timeout=20)
        driver.find_element(By.ID, "phone-answer").click()
        wait_text(driver, "phone-state", "通话中", timeout=15)
        driver.find_element(By.ID, "phone-hangup").click()
        wait_text(driver, "phone-agent-state", "话后处理 Wrap-up", timeout=10)
        assert driver.find_element(By.ID, "phone-ready").is_displayed()
        line = next(ln for ln in wrapup_center.rx("queue show hotline-general").splitlines() if "agent1001" in ln)
        assert "paused" in line.lower() and "话后处理" in line, line
        wrapup_center.rx("channel originate Local/s@test-seat-queue/n extension s@test-wait")
        time.sleep(WRAPUP + 2)  # past the queue's wrapuptime: still held, by hand
        assert not phone_state(driver)["ringing"], "offered a call before the agent ended 话后处理"
        assert "话后处理 Wrap-up" in driver.find_element(By.ID, "phone-agent-state").text
        driver.find_element(By.ID, "phone-ready").click()
        wait_text(driver, "phone-ring", "13912345678", timeout=15)
        wrapup_center.rx("channel request hangup all")
    rows = store.run_sync(history.states_of, "agent1001")
    store.close()
    assert [r["state"] for r in rows] == ["ready", "wrapup", "ready"]
    assert (rows[1]["ended_at"] - rows[1]["started_at"]).total_seconds() >= WRAPUP + 2
