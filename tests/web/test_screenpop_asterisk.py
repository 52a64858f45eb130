"""Real Asterisk, real server, real websockets: a call to an old number is
answered by an agent in the queue, and that agent — only that agent — gets
the screen-pop. Runs on SQLite and on a real PostgreSQL."""
from __future__ import annotations

import asyncio
import datetime as dt

import aiohttp
import pytest

from tests.support.routing_calls import collect, place
from tests.support.web_support import events_within

pytestmark = pytest.mark.asterisk
pytest_plugins = ["tests.support.pg_server"]

TOKENS = {"tok-agent1001-0123456789": "agent1001", "tok-agent1002-0123456789": "agent1002"}
SH = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
async def agent1001_in_general_queue(center, center_ami):
    """agent1001 logs in to the general queue (a simulated phone that answers)."""
    center.rx("channel request hangup all")  # callers left waiting by earlier tests would be answered first
    await asyncio.sleep(0.5)
    member = {"Queue": "hotline-general", "Interface": "Local/agent1001@sim-agents/n"}
    await center_ami.action({"Action": "QueueAdd", "MemberName": "agent1001", **member}, as_list=False)
    yield
    await center_ami.action({"Action": "QueueRemove", **member}, as_list=False)


async def test_answered_call_pops_on_that_agents_socket_only(db_url, hotline_server, center, center_ami,
                                                            agent1001_in_general_queue):
    server = await hotline_server(at=dt.datetime(2026, 12, 1, 9, 0, tzinfo=SH),
                                  **{"web.tokens": TOKENS, "database.url": db_url})
    base = f"http://127.0.0.1:{server.web_port}"
    async with aiohttp.ClientSession() as http:
        mine = await http.ws_connect(f"{base}/ws?token=tok-agent1001-0123456789&last_event_id=0")
        other = await http.ws_connect(f"{base}/ws?token=tok-agent1002-0123456789&last_event_id=0")
        since = len(center_ami.events)
        call = await place(center_ami, "12328", hold=6, callerid="13912345678")
        pops = await events_within(mine, 6)
        stray = await events_within(other, 0.5)
        await collect(center_ami, [call], settle=0, since=since)
        center.rx("channel request hangup all")
        await mine.close()
        await other.close()

    kinds = [e["kind"] for e in pops]
    assert "ring" in kinds and "answer" in kinds, kinds
    pop = next(e for e in pops if e["kind"] == "answer")["payload"]
    assert pop["call_id"] == call.linkedid
    assert pop["dialed"] == "12328"
    assert pop["line"] == "transport-12328"
    assert pop["department"] == "市交通运输局"
    assert pop["mode"] == "dual_number"
    assert pop["queue"] == "general"
    assert pop["agent"] == "agent1001"
    assert pop["caller"] == "13912345678"  # the agent sees the number to call back
    assert pop["ticket"] and pop["ticket"]["id"].startswith("T")
    assert stray == [], "another agent's socket must get nothing"

    await server.services.tracker.drain()
    from ivr.storage import repo
    history = await server.services.store.run(repo.caller_history, "13912345678")
    assert any(h["call_id"] == call.linkedid and h["dialed"] == "12328" for h in history)
