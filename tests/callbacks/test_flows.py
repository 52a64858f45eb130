"""Pure parts of the queue callback, rating and survey flows: what reaches Asterisk is checked."""
from __future__ import annotations

from types import SimpleNamespace

from callbacks import surveys, vhold
from callbacks.dialplan import render
from ivr.config.model import Callbacks, Config

OFFERING = {"vhold": 30}
TRUNK = SimpleNamespace(type="pjsip", endpoint="gw", host="10.0.0.1", context=None, prefix="")


def _ev(**kw) -> dict:
    return {"Linkedid": "1796.1", "Queue": "vhold", "Position": "3", "Joined": "1796396000", "Number": "13912345678",
            "Line": "water", "Dialed": "96116"} | kw


def test_an_offer_event_becomes_a_checked_origin():
    number, origin = vhold.offer_origin(_ev(), OFFERING)
    assert number == "13912345678"
    assert origin == {"linkedid": "1796.1", "queue": "vhold", "position": 3, "joined": 1796396000, "line": "water",
                      "dialed": "96116"}


def test_anything_off_in_an_offer_is_dropped_or_blanked():
    assert vhold.offer_origin(_ev(Number="139;Hangup"), OFFERING) is None
    assert vhold.offer_origin(_ev(Queue="general"), OFFERING) is None      # a queue that offers nothing
    _, origin = vhold.offer_origin(_ev(Line="x,Dial(PJSIP/1)", Dialed="12;3", Position="-1"), OFFERING)
    assert origin["line"] == "" and origin["dialed"] == "" and origin["position"] == 0


def test_agent_first_waits_in_the_queue_at_the_kept_place_then_dials_the_citizen():
    cb = Callbacks(queue_callback=OFFERING, ring_timeout=20)
    c = {"number": "13912345678", "no": 1, "origin": {"queue": "vhold", "position": 3, "line": "water", "dialed": ""}}
    act = vhold.originate(c, cb, "pstn", TRUNK)
    assert act["Channel"] == vhold.PLACE and act["Exten"] == "queue"
    assert "__HOTLINE_QCB_POS=3" in act["Variable"] and "__HOTLINE_CALLBACK=queue" in act["Variable"]
    assert any(v.startswith("HOTLINE_QCB_DIAL=PJSIP/") and v.endswith("13912345678@gw") for v in act["Variable"])
    assert "__HOTLINE_QCB_POS=1" in vhold.originate(c | {"no": 2}, cb, "pstn", TRUNK)["Variable"]  # retry: head
    first = vhold.originate(c, Callbacks(queue_callback=OFFERING, queue_callback_mode="caller_first"), "pstn", TRUNK)
    assert first["Exten"] == "queue-first" and first["Channel"].startswith("PJSIP/")
    assert "HOTLINE_QCB_CALLER=13912345678" in first["Variable"]  # the agent's pop shows the citizen


def test_survey_answers_mean_what_the_campaign_says_and_redo_sticks():
    cb = Callbacks(campaigns={"c1": [{"id": "solved", "prompt": "已解决请按1，未解决请按2",
                                      "keys": {"1": "已解决", "2": "未解决"}, "redo": ["2"]}]})
    assert surveys.meaning(cb.campaigns, "c1", "solved", "2") == ("未解决", True)
    assert surveys.meaning(cb.campaigns, None, "satisfaction", "2") == ("基本满意", False)
    assert surveys.meaning(cb.campaigns, "c1", "solved", "9") == ("无效按键", False)
    first = surveys.ticket_result(None, 7, "satisfaction", "不满意", "3", True, "t1")
    second = surveys.ticket_result(first, 7, "solved", "已解决", "1", False, "t2")
    assert second["redo"] is True and second["satisfaction"] == "不满意" and second["solved"] == "已解决"
    assert surveys.ticket_result(second, 8, "solved", "已解决", "1", False, "t3")["redo"] is False  # a new survey


def _config(**cb) -> Config:
    return Config.model_validate({"hotline": {"name": "测试热线"}, "queues": [{"id": "general", "name": "综合"}],
                                  "trunks": {"pstn": {"type": "local", "context": "sim-outside"}},
                                  "callbacks": {"enabled": True} | cb})


def test_rendered_dialplan_has_offers_rating_and_campaigns_only_when_asked():
    files = render(_config(queue_callback={"general": 45}, rating={"queues": ["general"], "lines": ["water"]},
                           campaigns={"c1": [{"id": "q1", "prompt": "p", "keys": {"1": "是", "2": "否"}}]}))
    assert "[hotline-general](+)\ncontext = hotline-qcb-offer" in files["queues_hotline_callbacks.conf"]
    assert "periodic-announce-frequency = 45" in files["queues_hotline_callbacks.conf"]
    ext = files["extensions_callbacks.conf"]
    assert '${REGEX("^(general)$" ${HOTLINE_QUEUE})} | ${REGEX("^(water)$" ${HOTLINE_LINE})}' in ext
    assert "Gosub(hotline-survey-ask,s,1(q1,hotline/callback-q-c1-q1,12))" in ext
    plain = render(_config())
    assert "queues_hotline_callbacks.conf" not in plain
    assert "[hotline-rating]" not in plain["extensions_callbacks.conf"]
    assert "[hotline-qcb-offer]" not in plain["extensions_callbacks.conf"]
