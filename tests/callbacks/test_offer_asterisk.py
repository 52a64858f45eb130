"""回访 "not satisfied" offers an agent: 3 then 0 reaches an agent whose pop shows the ticket; 1 hears no offer."""
from __future__ import annotations

import aiohttp
import pytest

from ivr.storage.models import Ticket

pytestmark = pytest.mark.asterisk

AGENT_V1 = "tok-vhold-agent-v1-0123456789"
MEMBER = {"Queue": "hotline-revisit", "Interface": "Local/v1@sim-agents/n", "MemberName": "v1"}
UNHAPPY, HAPPY = "13900000901", "13900000902"


def _add_tickets(session) -> None:
    session.add_all([Ticket(id="T20261204-0901", status="closed", summary="噪音扰民"),
                     Ticket(id="T20261204-0902", status="closed", summary="路灯不亮")])


def _ticket_extra(session, ticket_id: str) -> dict:
    return dict(session.get(Ticket, ticket_id).extra or {})


def _offer_events(events: list, since: int) -> list:
    return [e for e in events[since:] if e.get("UserEvent") == "HotlineCallback" and e.get("Question") == "offer"]


async def test_not_satisfied_then_0_reaches_an_agent_with_the_ticket_and_satisfied_hears_no_offer(cblab):
    center, store = cblab.center_ami, cblab.server.services.store
    await store.run(_add_tickets)
    http = aiohttp.ClientSession()
    ws = await http.ws_connect(f"http://127.0.0.1:{cblab.server.web_port}/ws?token={AGENT_V1}&last_event_id=0")
    assert (await center.action({"Action": "QueueAdd", **MEMBER}, as_list=False)).success
    try:
        since = len(center.events)
        task, _ = await cblab.engine.add("survey", UNHAPPY, ticket="T20261204-0901")
        agent = await center.wait_for(lambda e: e.get("UserEvent") == "SimAgent" and e.get("Agent") == "v1",
                                      since=since, timeout=30)
        assert agent["Callback"] == "survey" and agent["Queue"] == "revisit" and agent["Caller"] == UNHAPPY, agent
        pops = []
        for _ in range(20):  # the answer pop, then its ticket
            msg = await ws.receive_json(timeout=5)
            if msg.get("kind") == "answer":
                pops.append(msg["payload"])
                break
        assert pops and pops[0]["callback"] == "survey" and pops[0]["ticket"]["id"] == "T20261204-0901", pops
        [done] = await cblab.settled([task["id"]], timeout=40)
        assert done["answers"]["satisfaction"]["text"] == "不满意"
        assert done["answers"]["offer"]["text"] == "要求转人工" and done["answers"]["offer"]["key"] == "0"
        survey = (await store.run(_ticket_extra, "T20261204-0901"))["回访"]
        assert survey["redo"] is True and survey["agent_asked"] is True and survey["offer"] == "要求转人工"

        since = len(center.events)
        task, _ = await cblab.engine.add("survey", HAPPY, ticket="T20261204-0902")
        [done] = await cblab.settled([task["id"]], timeout=40)
        assert done["answers"]["satisfaction"]["text"] == "满意" and "offer" not in done["answers"]
        assert _offer_events(center.events, since) == []   # no offer was made
        survey = (await store.run(_ticket_extra, "T20261204-0902"))["回访"]
        assert survey["redo"] is False and "agent_asked" not in survey
    finally:
        await ws.close()
        await http.close()
        await center.action({"Action": "QueueRemove", "Queue": MEMBER["Queue"], "Interface": MEMBER["Interface"]},
                            as_list=False)
