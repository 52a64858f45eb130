"""/metrics scraped from the real server while a caller waits and an agent is paused."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ivr import metrics as shared

pytestmark = pytest.mark.asterisk


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


async def test_scrape_shows_waiting_paused_and_routed(lab):
    await lab.login("g2")
    await lab.ami.action({"Action": "QueuePause", "Interface": "Local/g2@sim-agents/n", "Paused": "true",
                          "Reason": "小休"}, as_list=False)
    since = len(lab.ami.events)
    await lab.ami.originate("12345", caller_context="hotline-testcall", variables={"HOTLINE_TEST_HOLD": "30"})
    await lab.ami.wait_for(lambda e: e.get("Event") == "QueueCallerJoin", since=since)
    base = f"http://127.0.0.1:{lab.server.web_port}"
    async with aiohttp.ClientSession() as http:
        r = await http.get(f"{base}/metrics")
        assert r.status == 401  # protected like the API
        async with lab.http("g1") as agent:
            for _ in range(40):
                r = await agent.get("/metrics")
                assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
                got = samples(await r.text())
                if got.get(("hotline_callers_waiting", (("queue", "general"),))) == 1:
                    break
                await asyncio.sleep(0.1)  # the wallboard refreshes on QueueCallerJoin
    assert got[("hotline_callers_waiting", (("queue", "general"),))] == 1
    assert got[("hotline_agents", (("state", "paused"),))] == 1
    assert got[("hotline_agents", (("state", "logged_out"),))] == 1          # g1
    assert got[("hotline_calls_in_progress", ())] >= 1
    assert got[("hotline_calls_routed_total", (("action", "queue"),))] >= 1
    assert ("hotline_db_queue_depth", ()) in got and ("hotline_fastagi_worker_restarts_total", ()) in got
    assert ("hotline_pop_latency_seconds_count", ()) in got
    shared.RECORDINGS_FAILED.labels("write").inc()  # what the recording plugin does on a failure
    async with lab.http("sup") as sup:
        got = samples(await (await sup.get("/metrics")).text())
    assert got[("hotline_recordings_failed_total", (("reason", "write"),))] >= 1
