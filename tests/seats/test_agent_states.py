"""示忙/示闲 from the page: paused with a reason from config, the queue stops offering the
browser seat; ready again, the next call rings in the page. Pure request checks first."""
from __future__ import annotations

import datetime as dt
import time

import aiohttp
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from ivr.seats import history
from ivr.seats.states import PAUSED, READY, StateChange, StateError, parse_request
from tests.seats.conftest import PASSWORDS
from tests.seats.test_browser_seat import (FLAGS, WebThread, chromium, media_flags, phone_state,
                                           seat_web_config, text_of, wait_text)
from ivr.storage.store import Store
from tests.support.web_support import TOKEN, serve, services

REASONS = ["小休", "用餐", "培训", "会议"]


def test_requests_become_queue_pause_actions_only_with_configured_reasons():
    change = parse_request({"state": "paused", "reason": "培训"}, REASONS)
    assert change == StateChange(PAUSED, "培训")
    assert change.ami_action("agent1001") == {"Action": "QueuePause", "Interface": "PJSIP/agent1001",
                                              "Paused": "true", "Reason": "培训"}
    assert parse_request({"state": "ready", "reason": "x"}, REASONS).ami_action("agent1001") == {
        "Action": "QueuePause", "Interface": "PJSIP/agent1001", "Paused": "false"}
    assert parse_request({"state": "ready"}, REASONS).state == READY
    for bad, message in [({"state": "paused", "reason": "回家\r\nAction: Originate"}, "示忙原因须是配置中的一项"),
                         ({"state": "paused"}, "示忙原因"), ({"state": "gone"}, "状态只能是"), (["paused"], "JSON 对象")]:
        with pytest.raises(StateError, match=message):
            parse_request(bad, REASONS)


def _queue_line(inst, agent: str) -> str:
    return next((ln for ln in inst.rx("queue show hotline-general").splitlines() if f"PJSIP/{agent}" in ln), "")


def test_paused_seat_is_not_offered_calls_until_ready(seat_center, tone_wav, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_AGENT_PASSWORDS", f"agent1001={PASSWORDS['agent1001']}")
    seat_center.rx("channel request hangup all")
    store = Store.open(f"sqlite:///{tmp_path / 'states.db'}")
    with WebThread(seat_web_config(seat_center), ami_of=seat_center, store=store) as base, \
            chromium(tmp_path / "profile", FLAGS + media_flags(tone_wav)) as driver:
        driver.get(f"{base}/console/?token={TOKEN['agent1001']}")
        wait_text(driver, "phone-state", "话机就绪", timeout=20)
        Select(driver.find_element(By.ID, "phone-reason")).select_by_value("培训")
        driver.find_element(By.ID, "phone-pause").click()
        wait_text(driver, "phone-agent-state", "示忙 Paused（培训）", timeout=10)
        line = _queue_line(seat_center, "agent1001")
        assert "paused" in line.lower() and "培训" in line, line
        wait_text(driver, "phone-agent-state", "（培训） 00:02", timeout=5)  # the running timer

        seat_center.rx("channel originate Local/s@test-seat-queue/n extension s@test-wait")
        time.sleep(6)  # longer than the queue needs to offer a free agent
        assert not phone_state(driver)["ringing"], "a paused agent was offered the call"
        driver.refresh()  # a reload keeps the state and its timer (from agent_states)
        wait_text(driver, "phone-state", "话机就绪", timeout=20)
        wait_text(driver, "phone-agent-state", "示忙 Paused（培训）", timeout=5)
        mm, ss = text_of(driver, "phone-agent-state").rsplit(" ", 1)[1].split(":")
        assert int(mm) * 60 + int(ss) >= 6  # counted from when it was set, not from the reload
        assert driver.find_element(By.ID, "phone-ready").is_displayed()

        driver.find_element(By.ID, "phone-ready").click()
        wait_text(driver, "phone-agent-state", "示闲 Ready", timeout=10)
        assert "paused" not in _queue_line(seat_center, "agent1001").lower()
        wait_text(driver, "phone-ring", "13912345678", timeout=20)  # the waiting caller is offered now
        seat_center.rx("channel request hangup all")
    rows = store.run_sync(history.states_of, "agent1001")
    store.close()
    # 签入 (ready) when the phone registered, then 培训, then 示闲
    assert [(r["state"], r["reason"]) for r in rows] == [("ready", ""), ("paused", "培训"), ("ready", "")]
    rows = rows[1:]
    assert rows[0]["ended_at"] == rows[1]["started_at"] and rows[1]["ended_at"] is None
    assert (rows[0]["ended_at"] - rows[0]["started_at"]).total_seconds() >= 6


async def test_state_api_refuses_bad_requests_with_a_reason(seat_center):
    async with serve(services(), seat_web_config(seat_center)) as base, aiohttp.ClientSession() as s:
        def post(agent: str, body):
            return s.post(f"{base}/api/seat/state", json=body, headers={"Authorization": f"Bearer {TOKEN[agent]}"})
        async with post("agent1001", {"state": "paused", "reason": "逛街"}) as r:
            assert r.status == 400 and "示忙原因须是配置中的一项" in (await r.json())["detail"]
        async with post("agent1001", {"state": "paused", "reason": "小休"}) as r:  # no AMI in this app
            assert r.status == 503 and "电话系统未连接" in (await r.json())["detail"]
        async with post("agent1002", {"state": "ready"}) as r:
            assert r.status == 404
        async with s.post(f"{base}/api/seat/state", json={"state": "ready"}) as r:
            assert r.status == 401


def test_state_history_closes_the_open_state(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        t0 = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.timezone.utc)
        store.run_sync(history.change_state, "agent1001", "paused", "培训", t0)
        store.run_sync(history.change_state, "agent1002", "paused", "小休", t0)
        store.run_sync(history.change_state, "agent1001", "ready", "", t0 + dt.timedelta(minutes=30))
        rows = store.run_sync(history.states_of, "agent1001")
        assert rows == [{"state": "paused", "reason": "培训", "started_at": t0, "ended_at": t0 + dt.timedelta(minutes=30)},
                        {"state": "ready", "reason": "", "started_at": t0 + dt.timedelta(minutes=30), "ended_at": None}]
        assert store.run_sync(history.states_of, "agent1002")[0]["ended_at"] is None  # others untouched
    finally:
        store.close()
