"""Pure parts of supervision: spy checks, the ChanSpy dialplan, board states, config, wallboard access."""
from __future__ import annotations

import time

import aiohttp
import pytest
from pydantic import ValidationError

from ivr import metrics as shared
from ivr.config.supervision_model import Supervision
from supervision import board, dialplan, spy
from supervision.plugin import _failsafe
from tests.support.supervision_web import serve_supervision
from tests.support.web_support import TOKEN, city_config, services

CHANNELS = [
    {"Channel": "PJSIP/1001-0000000a", "BridgeId": "", "Linkedid": "1.1"},           # ringing, not bridged
    {"Channel": "PJSIP/10011-0000000b", "BridgeId": "b1", "Linkedid": "1.2"},        # another agent (prefix!)
    {"Channel": "Local/1001@sim-agents-00000001;2", "BridgeId": "", "Linkedid": "1.3"},
    {"Channel": "Local/1001@sim-agents-00000001;1", "BridgeId": "b2", "Linkedid": "1.3"},
]


def test_spy_request_checks_agent_and_mode():
    assert spy.parse({"agent": "1001", "mode": "whisper"}, ["1001"]) == spy.SpyRequest("1001", "whisper")
    assert spy.parse({"agent": "1001"}, ["1001"]).mode == "listen"
    for body, status in (({"agent": "1002"}, 404), ({"agent": "1001,q", "mode": "listen"}, 404),
                         ({"agent": "1001", "mode": "qB"}, 400), (["1001"], 400), ({"agent": 1001}, 404)):
        with pytest.raises(spy.SpyError) as err:
            spy.parse(body, ["1001"])
        assert err.value.status == status


def test_agent_leg_is_the_bridged_queue_side_of_that_agent_only():
    assert spy.agent_leg("1001", CHANNELS) == "Local/1001@sim-agents-00000001;1"
    assert spy.agent_leg("10011", CHANNELS) == "PJSIP/10011-0000000b"
    with pytest.raises(spy.SpyError) as err:
        spy.agent_leg("1002", CHANNELS)
    assert err.value.status == 409
    with pytest.raises(spy.SpyError):  # a name Asterisk would never give is never spied on
        spy.agent_leg("x", [{"Channel": "PJSIP/x-0000000a,qB", "BridgeId": "b"}])


def test_originate_and_endpoint():
    args = spy.originate("PJSIP/sup", "PJSIP/1001-0000000a", "barge", 20)
    assert (args["channel"], args["context"], args["exten"]) == ("PJSIP/sup", "hotline-supervise", "barge")
    assert args["variables"] == {"HOTLINE_SPY_CHANNEL": "PJSIP/1001-0000000a"} and args["timeout_ms"] == 20000
    with pytest.raises(ValueError):
        spy.originate("PJSIP/sup", "PJSIP/1001-0000000a;Hangup", "listen", 20)
    assert spy.endpoint("sup", {}) == "PJSIP/sup"
    assert spy.endpoint("sup", {"sup": "Local/8001@desk/n"}) == "Local/8001@desk/n"


def test_dialplan_fixes_the_chanspy_options_per_mode():
    text = dialplan.render(city_config())["extensions_supervision.conf"]
    assert "[hotline-supervise]" in text
    for mode, opts in (("listen", "qdE"), ("whisper", "qwdE"), ("barge", "qBdE")):
        assert f"exten => {mode},1," in text and f"ChanSpy(${{HOTLINE_SPY_CHANNEL}},{opts})" in text
    assert "\\;1)$" in text  # escaped: a bare ; would end the line in extensions.conf


def test_config_rejects_endpoints_that_are_not_phones():
    assert Supervision(endpoints={"sup": "Local/8001@desk-phones/n"}).endpoints["sup"] == "Local/8001@desk-phones/n"
    for bad in ("PJSIP/sup,qB", "SIP/sup", "Local/8001@desk;1", "PJSIP/sup\nAction: Hangup"):
        with pytest.raises(ValidationError):
            Supervision(endpoints={"sup": bad})


def member(**kw) -> dict:
    return {"Event": "QueueMember", "Queue": "hotline-general", "Name": "1001", "Status": "1", "Paused": "0", **kw}


def test_board_states_and_durations():
    now = float(int(time.time()))
    assert board.member_state(member(InCall="1"), now) == ("talking", "")
    assert board.member_state(member(Status="6"), now) == ("ringing", "")
    assert board.member_state(member(Status="5"), now) == ("logged_out", "")
    assert board.member_state(member(Wrapuptime="30", LastCall=str(now - 10)), now) == ("wrapup", "")
    assert board.member_state(member(Wrapuptime="30", LastCall=str(now - 40)), now) == ("free", "")
    assert board.member_state(member(Paused="1", PausedReason="用餐"), now) == ("paused", "用餐")
    since = board.Since()
    listing = [member(Paused="1", PausedReason="用餐", LastPause=str(int(now - 125))),
               member(Queue="hotline-hrss", Name="1001"),
               {"Event": "QueueEntry", "Queue": "hotline-general", "Wait": "42"},
               {"Event": "QueueEntry", "Queue": "hotline-general", "Wait": "7"},
               {"Event": "QueueEntry", "Queue": "hotline-other", "Wait": "99"}]
    snap = board.build(listing, {"general": "综合", "hrss": "人社"}, ["1001", "1002"], now, since)
    assert [(q["id"], q["waiting"], q["longest_wait_s"]) for q in snap["queues"]] == [("general", 2, 42), ("hrss", 0, 0)]
    a = {r["agent"]: r for r in snap["agents"]}
    assert (a["1001"]["state"], a["1001"]["reason"], a["1001"]["seconds"]) == ("paused", "用餐", 125)
    assert sorted(a["1001"]["queues"]) == ["general", "hrss"]
    assert a["1002"]["state"] == "logged_out" and snap["agent_counts"]["paused"] == 1
    later = board.build(listing[:1], {"general": "综合"}, ["1002"], now + 5, since)
    assert {r["agent"]: r["seconds"] for r in later["agents"]} == {"1001": 130, "1002": 5}


def test_failsafe_counter_counts_the_fallback_varset_only():
    before = shared.FAILSAFE._value.get()
    _failsafe({"Variable": "HOTLINE_FALLBACK", "Value": "1"})
    _failsafe({"Variable": "HOTLINE_LINE", "Value": "1"})
    assert shared.FAILSAFE._value.get() == before + 1


class Board:
    snapshot = {"queues": [], "agents": [], "agent_counts": {}, "waiting": 0, "today": {}}

    async def latest(self):
        return self.snapshot


async def test_wallboard_routes_are_for_supervisors():
    async with serve_supervision(services(), city_config(), Board()) as base, aiohttp.ClientSession() as http:
        r = await http.get(f"{base}/wallboard/")  # the static shell holds no data: public like the console's
        assert r.status == 200 and "实时监控" in await r.text()
        r = await http.get(f"{base}/api/supervision/wallboard")
        assert r.status == 401
        r = await http.get(f"{base}/api/supervision/wallboard", headers={"Authorization": f"Bearer {TOKEN['agent1001']}"})
        assert r.status == 403
        r = await http.get(f"{base}/api/supervision/wallboard", headers={"Authorization": f"Bearer {TOKEN['super01']}"})
        assert r.status == 200 and (await r.json())["waiting"] == 0
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await http.ws_connect(f"{base}/wallboard/ws?token={TOKEN['agent1001']}")
        assert err.value.status == 403
        r = await http.post(f"{base}/api/supervision/spy", json={"agent": "agent1001"},
                            headers={"Authorization": f"Bearer {TOKEN['agent1001']}"})
        assert r.status == 403
