"""The Originate of an attempt, and which interface a clicked 回拨 may ring (pure)."""
from __future__ import annotations

from types import SimpleNamespace

from callbacks import originate
from callbacks.dialplan import render
from ivr.config.model import Callbacks, Config

TRUNK = SimpleNamespace(type="pjsip", endpoint="gw", host="10.0.0.1", context=None, prefix="")


def _member(**kw) -> dict:
    return {"Event": "QueueMember", "Queue": "hotline-general", "Name": "g1", "Location": "PJSIP/g1",
            "Paused": "0", "InCall": "0", "Status": "1"} | kw


def test_a_free_clicking_agent_gets_their_own_interface():
    listing = [_member(Name="a1", Location="PJSIP/a1"), _member(), _member(Queue="hotline-other", Location="PJSIP/x")]
    assert originate.clicked_interface(listing, "general", "g1") == ("PJSIP/g1", "接通点击回拨的座席")
    local = _member(Location="Local/g1@sim-agents/n", Status="0")
    assert originate.clicked_interface([local], "general", "g1")[0] == "Local/g1@sim-agents/n"


def test_busy_paused_absent_or_foreign_interfaces_fall_back_to_the_queue():
    cases = [([_member(Paused="1")], "座席示忙，转入队列"), ([_member(InCall="1")], "座席通话中，转入队列"),
             ([_member(Status="2")], "座席通话中，转入队列"), ([_member(Name="a1", Location="PJSIP/a1")],
                                                           "座席未签入该队列，转入队列"),
             ([_member(Location="PJSIP/g1,Dial")], "座席接口不合规，转入队列"),
             ([_member(Location="PJSIP/13900000001@gw")], "座席接口不合规，转入队列"),  # named g1, dials out
             ([], "座席未签入该队列，转入队列")]
    for listing, why in cases:
        assert originate.clicked_interface(listing, "general", "g1") == (None, why), listing


def test_only_a_clicked_missed_call_carries_the_agent():
    cb = Callbacks()
    c = {"channel_id": "cb-1", "task": 7, "flow": "missed", "number": "13912345678", "ticket": None, "no": 1,
         "origin": {"clicked_by": "g1"}}
    act = originate.action(c, cb, "pstn", TRUNK, "PJSIP/g1")
    assert "HOTLINE_CB_AGENT=PJSIP/g1" in act["Variable"] and act["Exten"] == "missed"
    assert "HOTLINE_QCB_CALLER=13912345678" in act["Variable"]
    assert not any(v.startswith("HOTLINE_CB_AGENT") for v in originate.action(c, cb, "pstn", TRUNK)["Variable"])
    survey = originate.action(c | {"flow": "survey"}, cb, "pstn", TRUNK, "PJSIP/g1")
    assert not any(v.startswith("HOTLINE_CB_AGENT") for v in survey["Variable"])


def test_the_missed_flow_rings_the_agent_then_the_queue():
    cfg = Config.model_validate({"hotline": {"name": "测试热线"}, "queues": [{"id": "general", "name": "综合",
                                                                           "ring_timeout": 12}]})
    text = render(cfg)["extensions_callbacks.conf"]
    assert "Dial(${HOTLINE_CB_AGENT},12)" in text
    assert 'GotoIf($["${HOTLINE_CB_AGENT}" = ""]?queue)' in text and "n(queue),Goto(hotline-queue,s,1)" in text
