"""Fast tracks through a real Asterisk (tests/data/fasttrack.yaml in an instance of its own):

- 一企来: a registered enterprise caller who calls second is answered first by
  the only agent (queue priority), tagged, with a 15-working-day ticket draft;
- 外籍人士服务热线: pressing 9 at the 12345 menu reaches the English queue.
"""
from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from ivr.config.loader import load_config
from ivr.prompts.build import build
from ivr.prompts.manifest import prompts_for
from ivr.storage import repo
from tests.support.private_center import private_center
from tests.support.routing_calls import place

pytestmark = pytest.mark.asterisk

CONFIG = Path(__file__).parents[1] / "data" / "fasttrack.yaml"
FIRM = "13800000001"        # from tests/data/fasttrack_enterprises.yaml (enterprise.numbers_file)
CITIZEN = "13912345678"
AGENT = "Local/ent1@sim-agents/n"


@pytest.fixture(scope="module")
def prompts(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fasttrack-prompts")
    build(prompts_for(load_config(CONFIG), out / "no-manifest.yaml"), out)  # placeholders from the texts
    return out


@pytest.fixture
async def center(prompts, tmp_path):
    async with private_center("fasttrack", CONFIG, tmp_path, at=dt.datetime.now(dt.timezone.utc),
                              prompts=prompts) as pc:
        yield pc


def _joined(queue: str, not_lid: str | None = None):
    return lambda e: (e.get("Event") == "QueueCallerJoin" and e.get("Queue") == queue
                      and e.get("Linkedid") != not_lid)


def _vars(ami, linkedid: str) -> dict[str, str]:
    return {e["Variable"].lstrip("_"): e.get("Value", "") for e in ami.events
            if e.get("Event") == "VarSet" and e.get("Linkedid") == linkedid
            and e.get("Variable", "").lstrip("_").startswith("HOTLINE_")}


async def _draft_extra(store, ticket_id: str, timeout: float = 10) -> dict:
    for _ in range(int(timeout / 0.1)):
        draft = await store.run(repo.ticket_draft, ticket_id)
        if draft and draft.get("extra"):
            return draft["extra"]
        await asyncio.sleep(0.1)
    raise AssertionError(f"ticket {ticket_id} got no tags within {timeout}s")


async def test_enterprise_caller_is_answered_ahead_of_a_citizen_who_called_first(center):
    ami = center.ami
    since = len(ami.events)
    await place(ami, "12345", hold=40, dtmf="1", dtmf_after=1, callerid=CITIZEN)   # key 1: the general pool
    first = await ami.wait_for(_joined("hotline-general"), since=since, timeout=20)
    await place(ami, "12345", hold=40, callerid=FIRM)                              # no menu: straight in
    second = await ami.wait_for(_joined("hotline-general", first["Linkedid"]), since=since, timeout=20)
    # the enterprise caller joined behind nobody: placed ahead of the citizen already waiting
    assert (first["Position"], second["Position"]) == ("1", "1")
    try:
        reply = await ami.action({"Action": "QueueAdd", "Queue": "hotline-general", "Interface": AGENT,
                                  "MemberName": "ent1"}, as_list=False)
        assert reply.success
        answered = await ami.wait_for(lambda e: e.get("Event") == "UserEvent" and e.get("UserEvent") == "SimAgent",
                                      since=since, timeout=20)
        assert answered["Linkedid"] == second["Linkedid"]   # the agent got the enterprise caller
    finally:
        await ami.action({"Action": "QueueRemove", "Queue": "hotline-general", "Interface": AGENT}, as_list=False)
        center.inst.rx("channel request hangup all")
    got = _vars(ami, second["Linkedid"])
    assert (got["HOTLINE_TAGS"], got["HOTLINE_PRIORITY"], got["HOTLINE_ACTION"]) == ("enterprise", "10", "queue")
    assert _vars(ami, first["Linkedid"]).get("HOTLINE_TAGS", "") == ""
    extra = await _draft_extra(center.server.services.store, got["HOTLINE_TICKET"])
    assert extra["tags"] == ["enterprise"] and extra["urgency"] == "15workdays"


async def test_key_9_reaches_the_english_queue(center):
    ami = center.ami
    since = len(ami.events)
    await place(ami, "12345", hold=15, dtmf="9", dtmf_after=1.5)
    try:
        joined = await ami.wait_for(lambda e: e.get("Event") == "QueueCallerJoin", since=since, timeout=20)
    finally:
        center.inst.rx("channel request hangup all")
    assert joined["Queue"] == "hotline-lang-en"
    got = _vars(ami, joined["Linkedid"])
    assert (got["HOTLINE_MENU"], got["HOTLINE_TAGS"], got["HOTLINE_QUEUE"]) == ("9", "language:en", "lang-en")
