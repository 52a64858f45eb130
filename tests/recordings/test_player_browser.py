"""The console's recording player in real Chromium against a real recorded call: the agent who
answered sees the recording, ▶ 录音 plays it through a signed URL (duration known, time advances),
and seeking works; another agent's console does not list it."""
from __future__ import annotations

import asyncio

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from ivr.storage import repo as core
from recordings import repo
from tests.recordings.lab import TOKENS, scored
from tests.web.test_console_browser import FLAGS, chromium, wait_text

pytestmark = pytest.mark.asterisk

PLAYER_FLAGS = FLAGS + ["--autoplay-policy=no-user-gesture-required", "--mute-audio"]


def _token(agent: str) -> str:
    return next(t for t, a in TOKENS.items() if a == agent)


def _audio(driver) -> dict:
    return driver.execute_script("const a = document.getElementById('rec-audio');"
                                 "return {duration: a.duration, time: a.currentTime, src: a.src, paused: a.paused,"
                                 " error: a.error && a.error.code};")


def _play_and_seek(base: str, profile, rec_id: int, call_id: str) -> tuple[dict, dict, dict]:
    with chromium(profile, PLAYER_FLAGS) as driver:
        driver.get(f"{base}/console/?token={_token('a1')}")
        wait = WebDriverWait(driver, 15)
        # the 本班通话 row of that call has its own ▶ 录音
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#shift-rows tr[data-call='{call_id}'] .rec-play"),
                   "no ▶ 录音 on the shift's call")
        row = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#rec-rows tr[data-rec='{rec_id}'] button"))
        row[0].click()
        wait.until(lambda d: _audio(d)["duration"] and _audio(d)["duration"] > 0, "the recording never loaded")
        first = _audio(driver)
        wait.until(lambda d: _audio(d)["time"] > 0.3, "playback did not advance")
        playing = _audio(driver)
        driver.execute_script("document.getElementById('rec-audio').currentTime = arguments[0];",
                              max(0.0, first["duration"] - 1.0))
        wait.until(lambda d: _audio(d)["time"] >= first["duration"] - 1.0, "seeking did not move the player")
        wait_text(driver, "rec-now", "正在播放")
        return first, playing, _audio(driver)


def _listed_for(base: str, profile, agent: str) -> list[str]:
    with chromium(profile, PLAYER_FLAGS) as driver:
        driver.get(f"{base}/console/?token={_token(agent)}")
        WebDriverWait(driver, 15).until(lambda d: d.find_element(By.ID, "rec-rows").get_attribute("data-loaded"))
        assert driver.find_element(By.ID, "no-rec").is_displayed()
        return [e.get_attribute("data-rec") for e in driver.find_elements(By.CSS_SELECTOR, "#rec-rows tr")]


async def test_agent_plays_and_seeks_their_recording(reclab, recorded, tmp_path):
    call_id, _agent, row = recorded
    base = f"http://127.0.0.1:{reclab.web_port}"
    # selenium blocks: run it in a thread while this loop serves the console
    first, playing, seeked = await asyncio.to_thread(_play_and_seek, base, tmp_path / "p1", row["id"], call_id)
    assert first["error"] is None and "/stream?" in first["src"] and "token" not in first["src"]
    assert abs(first["duration"] - row["duration"]) < 1.5, (first, row["duration"])
    assert playing["time"] > 0.3
    assert seeked["time"] >= first["duration"] - 1.0
    audit = await reclab.server.services.store.run(core.audit_entries, record_type="recording",
                                                   record_id=row["rec_id"], actor="a1")
    assert any(a["action"] == "play_grant" for a in audit)
    assert any(a["action"] == "play" and a["detail"].get("via") == "signed_url" for a in audit)


async def test_another_agent_does_not_see_it(reclab, recorded, tmp_path):
    _call, _agent, row = recorded
    listed = await asyncio.to_thread(_listed_for, f"http://127.0.0.1:{reclab.web_port}", tmp_path / "p2", "a2")
    assert str(row["id"]) not in listed



def _jump_to_evidence(base: str, profile, rec_id: int, at: float) -> tuple[dict, str]:
    with chromium(profile, PLAYER_FLAGS) as driver:
        driver.get(f"{base}/console/?token={_token('sup')}")
        wait = WebDriverWait(driver, 15)
        buttons = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#rec-qa-list li[data-rec='{rec_id}'] "
                                                                         f"button[data-at='{at:g}']"))
        buttons[0].click()
        wait.until(lambda d: _audio(d)["duration"] and _audio(d)["time"] >= at, "the player did not jump")
        return _audio(driver), driver.find_element(By.ID, "rec-now").text


async def test_supervisor_jumps_to_qa_evidence(reclab, tmp_path):
    """A 质检 finding's evidence offset puts the player at that second (supervisor's console)."""
    call_id, _agent = await reclab.call(hold=2)
    row = await reclab.row_for(call_id)
    qa = await scored(reclab, row["id"])  # the worker's own result first: ours then replaces it (a rerun)
    rules = [{**r, "evidence": [{"at": 3.5, "end": 4.0, "side": "agent", "text": "不知道"}]}
             if r["rule"] == "forbidden" else r for r in qa["rules"]]
    store = reclab.server.services.store
    await store.run(repo.save_qa, row["id"], {"score": 75, "rules": rules}, qa["transcript"], qa["model"],
                    reclab.recordings.clock())
    audio, now = await asyncio.to_thread(_jump_to_evidence, f"http://127.0.0.1:{reclab.web_port}",
                                         tmp_path / "p3", row["id"], 3.5)
    assert 3.5 <= audio["time"] < row["duration"] + 0.5 and "/stream?" in audio["src"]
    assert "不知道" in now
    audit = await store.run(core.audit_entries, record_type="recording", record_id=row["rec_id"], actor="sup")
    assert {"play_grant", "play"} <= {a["action"] for a in audit}
