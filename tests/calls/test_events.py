"""The websocket event kinds and payloads (ivr.calls.events) are the ones the
console reads: the console's own copies of the names must not drift."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from ivr.calls import events
from ivr.calls.state import CallState

CONSOLE = Path(events.__file__).resolve().parents[1] / "web" / "console" / "console.js"


def _js_list(name: str) -> list[str]:
    m = re.search(rf"const {name} = (\[[^\]]*\]);", CONSOLE.read_text("utf-8"))
    assert m, f"{name} not found in console.js"
    return json.loads(m.group(1))


def _js_keys(name: str) -> set[str]:
    m = re.search(rf"const {name} = \{{(.*?)\}};", CONSOLE.read_text("utf-8"), re.S)
    assert m, f"{name} not found in console.js"
    return set(re.findall(r"(\w+):", m.group(1)))


def test_the_console_knows_the_kinds_and_leave_events_the_server_sends():
    text = CONSOLE.read_text("utf-8")
    assert set(_js_list("LEAVE_EVENTS")) == events.LEAVE_EVENTS
    handled = set(re.findall(r'ev\.kind === "(\w+)"', text))
    assert handled and handled <= events.KINDS
    assert {"ring", "answer", "update", "hangup", "notice"} <= handled


def test_every_disposition_has_a_label_on_the_console():
    call = CallState("c1", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    seen = {call.disposition()}
    call.fields["action"] = "prompt_then_hangup"
    seen.add(call.disposition())
    call.queued_at = call.started_at
    seen.add(call.disposition())
    call.forwarded = True
    seen.add(call.disposition())
    call.answered_by_agent = True
    seen.add(call.disposition())
    assert seen == _js_keys("DISPOSITIONS")


def test_payloads_keep_their_wire_form():
    """Byte for byte what the console and the stored history have always had."""
    assert events.dumps(events.ring_cancelled("c1", "no_answer")) == \
        '{"call_id":"c1","event":"ring_cancelled","reason":"no_answer"}'
    assert events.dumps(events.hangup("c1", "answered", None)) == '{"call_id":"c1","disposition":"answered","agent":null}'
    assert events.transcript("final", "你好") == {"event": "transcript", "transcript": {"final": "你好"}}
    assert events.notice("c1", "warning", "转接失败", transfer={"id": "x"}) == {
        "call_id": "c1", "level": "warning", "message": "转接失败", "transfer": {"id": "x"}}
    ev = events.Event(7, "update", "agent1001", "c1", {"call_id": "c1", "caller": "13912345678"}, 1.5)
    assert json.loads(ev.text(masked=True))["payload"]["caller"] != "13912345678"
    assert json.loads(ev.text(masked=False))["payload"]["caller"] == "13912345678"
