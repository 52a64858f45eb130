"""The console's 外呼与回访 tab in real Chromium: an agent clicks 回拨 on a missed call."""
from __future__ import annotations

import asyncio

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from callbacks import repo
from tests.web.test_console_browser import chromium

pytestmark = pytest.mark.asterisk

AGENT = "tok-general-agent-g1-0123456789"


async def test_agent_clicks_call_back_on_a_missed_call(cblab, tmp_path):
    engine, store = cblab.engine, cblab.server.services.store
    origin = {"linkedid": "1796390000.1", "queue": "hotline-general", "hold_s": 12}
    task, created, _ = await store.run(repo.add_task, engine.policy, engine.clock(), "missed", "13900000701", None,
                                       None, delay_s=3600, origin=origin)
    assert created
    base = f"http://127.0.0.1:{cblab.server.web_port}"

    def browse() -> str:
        with chromium(tmp_path / "profile") as d:
            d.get(f"{base}/console/?token={AGENT}")
            row = f'#cb-rows tr[data-task="{task["id"]}"]'
            WebDriverWait(d, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, row + " button"))
            shown = d.find_element(By.CSS_SELECTOR, row).text
            d.find_element(By.CSS_SELECTOR, row + " button").click()
            WebDriverWait(d, 10).until(lambda d: "已安排回拨" in d.find_element(By.ID, "cb-status").text)
            return shown

    try:
        shown = await asyncio.to_thread(browse)
        assert "139******01" in shown and "13900000701" not in shown and "12 秒" in shown
        after = await store.run(repo.get_task, task["id"])
        assert after["origin"]["clicked_by"] == "g1" and "点击回拨" in after["reason"]
        assert after["due_at"] < task["due_at"]   # due now instead of in an hour
    finally:
        await engine.cancel(task["id"])


async def test_agent_routes_show_only_missed_calls_and_need_a_token(cblab):
    import aiohttp

    url = f"http://127.0.0.1:{cblab.server.web_port}/api/callbacks"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {AGENT}"}) as http:
        async with http.get(url + "/missed") as r:
            assert r.status == 200 and all("*" in t["number"] for t in (await r.json())["tasks"])
        async with http.post(url + "/999999/dial") as r:
            assert r.status == 409
        async with http.get(url) as r:   # the full list stays supervisor-only
            assert r.status == 403
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/missed") as r:
            assert r.status == 401
