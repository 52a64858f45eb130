"""签入/签出 from the page on real Asterisk, seen by a supervisor; auto-answer per agent.

The page signs a fresh seat in when its phone registers (QueueAdd: agent1001 is a
dynamic member of hotline-general); 签出 removes it (QueueRemove) and a waiting
call is not offered; a reload keeps it signed out; 签入 brings the call. A
supervisor's websocket receives every change, and the supervisor's console
board shows it live; GET /api/seats/states lists it (403 for an agent).
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
import websocket
from pydantic import ValidationError
from selenium.webdriver.common.by import By

from ivr.config.model import Config
from ivr.seats import history
from ivr.seats.queues import seat_queues
from ivr.storage.store import Store
from tests.seats.conftest import PASSWORDS
from tests.seats.test_browser_seat import (FLAGS, WebThread, chromium, media_flags, phone_state,
                                           seat_web_config, wait_text)
from tests.support.web_support import TOKEN, city_config


def _member_line(inst, agent: str = "agent1001") -> str:
    return next((ln for ln in inst.rx("queue show hotline-general").splitlines() if f"PJSIP/{agent}" in ln), "")


def test_sign_in_joins_only_queues_the_agent_may_serve():
    data = city_config().model_dump()
    data["queues"][0]["members"] = ["PJSIP/agent1001"]
    data["webrtc"] = {"agents": ["agent1001"], "seats": {"agent1001": {"queues": ["general", "hrss-expert"]}}}
    config = Config.model_validate(data)
    assert seat_queues(config, "agent1001") == ["general"]  # hrss-expert is not allowed by web.agent_queues
    data["web"]["agent_queues"] = {"*": ["general"], "agent1001": ["hrss-expert"]}
    assert seat_queues(Config.model_validate(data), "agent1001") == ["general", "hrss-expert"]
    data["webrtc"]["seats"] = {"agent9": {"auto_answer": True}}
    with pytest.raises(ValidationError, match="not in webrtc.agents"):
        Config.model_validate(data)


def _ws_events(base: str, token: str) -> websocket.WebSocket:
    ws = websocket.create_connection(base.replace("http:", "ws:") + f"/ws?token={token}", timeout=15)
    ws.send(json.dumps({"type": "resume", "last_event_id": None}))
    assert json.loads(ws.recv())["type"] == "hello"
    return ws


def _next_state(ws: websocket.WebSocket) -> dict:
    while True:
        msg = json.loads(ws.recv())
        if msg.get("kind") == "agent_state":
            return msg["payload"]


def _get(url: str, token: str) -> tuple[int, dict]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_sign_out_and_in_from_the_page_seen_by_a_supervisor(seat_center, tone_wav, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_AGENT_PASSWORDS", f"agent1001={PASSWORDS['agent1001']}")
    seat_center.rx("channel request hangup all")
    seat_center.rx("queue remove member PJSIP/agent1001 from hotline-general")  # a fresh seat: not in the queue
    assert _member_line(seat_center) == ""
    store = Store.open(f"sqlite:///{tmp_path / 'signin.db'}")
    with WebThread(seat_web_config(seat_center), ami_of=seat_center, store=store) as base, \
            chromium(tmp_path / "profile", FLAGS + media_flags(tone_wav)) as driver, \
            chromium(tmp_path / "super", FLAGS) as board:
        sup = _ws_events(base, TOKEN["super01"])
        driver.get(f"{base}/console/?token={TOKEN['agent1001']}")
        wait_text(driver, "phone-state", "话机就绪", timeout=20)
        assert _next_state(sup) | {"since": ""} == {"agent": "agent1001", "state": "ready", "label": "示闲 Ready",
                                                    "reason": "", "since": "", "queues": ["general"]}
        assert "dynamic" in _member_line(seat_center), seat_center.rx("queue show hotline-general")
        wait_text(driver, "phone-agent-state", "示闲 Ready", timeout=5)

        driver.find_element(By.ID, "seat-sign-out").click()
        wait_text(driver, "phone-agent-state", "签出 Signed out", timeout=10)
        assert _next_state(sup)["state"] == "signed_out"
        assert _member_line(seat_center) == ""
        status, body = _get(f"{base}/api/seats/states", TOKEN["super01"])
        row = next(a for a in body["agents"] if a["agent"] == "agent1001")
        assert status == 200 and row["state"] == "signed_out" and row["label"] == "签出 Signed out" and row["since"]
        assert _get(f"{base}/api/seats/states", TOKEN["agent1001"])[0] == 403

        board.get(f"{base}/console/?token={TOKEN['super01']}")  # the supervisors' board
        wait_text(board, "board-rows", "签出 Signed out", timeout=10)

        seat_center.rx("channel originate Local/s@test-seat-queue/n extension s@test-wait")
        time.sleep(4)  # longer than the queue needs to offer a free member
        assert not phone_state(driver)["ringing"], "a signed-out seat was offered the call"
        driver.refresh()  # a reload keeps the seat signed out (no automatic 签入)
        wait_text(driver, "phone-state", "话机就绪", timeout=20)
        wait_text(driver, "phone-agent-state", "签出 Signed out", timeout=5)
        assert driver.find_element(By.ID, "seat-sign-in").is_displayed() and _member_line(seat_center) == ""

        driver.find_element(By.ID, "seat-sign-in").click()
        wait_text(driver, "phone-ring", "13912345678", timeout=20)  # the waiting caller is offered now
        assert _next_state(sup)["state"] == "ready"
        wait_text(board, "board-rows", "示闲 Ready", timeout=10)  # pushed live to the board
        seat_center.rx("channel request hangup all")
        sup.close()
    rows = store.run_sync(history.states_of, "agent1001")
    store.close()
    assert [r["state"] for r in rows] == ["ready", "signed_out", "ready"]
    assert rows[1]["ended_at"] == rows[2]["started_at"] and rows[2]["ended_at"] is None


def test_auto_answer_seat_answers_by_itself(seat_center, tone_wav, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_AGENT_PASSWORDS", f"agent1001={PASSWORDS['agent1001']}")
    seat_center.rx("channel request hangup all")
    config = seat_web_config(seat_center)
    config = Config.model_validate(config.model_dump() | {"webrtc": config.webrtc.model_dump() | {
        "seats": {"agent1001": {"auto_answer": True}}}})
    with WebThread(config, ami_of=seat_center) as base, \
            chromium(tmp_path / "profile", FLAGS + media_flags(tone_wav)) as driver:
        driver.get(f"{base}/console/?token={TOKEN['agent1001']}")
        wait_text(driver, "phone-state", "话机就绪", timeout=20)
        wait_text(driver, "phone-agent-state", "示闲 Ready", timeout=10)
        seat_center.rx("channel originate Local/s@test-seat-queue/n extension s@test-wait")
        wait_text(driver, "phone-state", "通话中", timeout=20)  # nobody clicked
        assert phone_state(driver)["inCall"]
        assert any(ln.startswith("PJSIP/agent1001") and "!Up!" in ln
                   for ln in seat_center.rx("core show channels concise").splitlines())
        driver.find_element(By.ID, "phone-hangup").click()
        seat_center.rx("channel request hangup all")
