"""AMI event filters (ivr.ami.filters) and the fast event parser, down to what a
real Asterisk then sends the server's session."""
from __future__ import annotations

import asyncio

import pytest
from panoramisk.message import Message

from ivr.ami import client as ami_client
from ivr.ami.client import AmiClient
from ivr.ami.filters import EventFilter, advanced_filters, derive, filter_actions
from ivr.ami.manager import parse_event
from ivr.calls.tracker import AMI_EVENTS, VARSET_NARROWING, CallTracker
from ivr.server import SERVER_NOISE
from tests.support.asterisk_harness import new_instance


@pytest.mark.parametrize("version, advanced", [
    ("22.10.1", True), ("22.0.0", True), ("23.1.0", True), ("21.5.0", True), ("21.4.3", False),
    ("20.10.0", True), ("20.9.3", False), ("18.25.0", True), ("18.24.0", False), ("16.30.0", False),
    ("GIT-master-abc123", False), ("", False),
])
def test_advanced_filters_by_version(version, advanced):
    assert advanced_filters(version) is advanced


def test_filters_render_as_advanced_or_as_regular_expressions():
    rules = (EventFilter("Newexten"), EventFilter("VarSet", "Context", "exact", "hotline-route"),
             EventFilter("VarSet", "Variable", "regex", "^[^_H]"))
    assert filter_actions(rules, "22.10.1") == [
        {"Action": "Filter", "Operation": "Add", "MatchCriteria": "name(Newexten),action(exclude)"},
        {"Action": "Filter", "Operation": "Add",
         "MatchCriteria": "name(VarSet),header(Context),method(exact),action(exclude)", "Filter": "hotline-route"},
        {"Action": "Filter", "Operation": "Add",
         "MatchCriteria": "name(VarSet),header(Variable),method(regex),action(exclude)", "Filter": "^[^_H]"},
    ]
    assert [a["Filter"] for a in filter_actions(rules, "20.5.0")] == [
        "!Event: Newexten", "!Event: VarSet.*Context: hotline-route", "!Event: VarSet.*Variable: [^_H]"]


def test_filters_are_derived_from_what_is_subscribed_by_name():
    """A handler subscribed by name never has its events filtered; narrowing holds
    only while every handler of that event asks for it; "*" handlers take the rest."""
    tracker = {name: [VARSET_NARROWING if name == "VarSet" else ()] for name in AMI_EVENTS}
    base = derive(SERVER_NOISE, {**tracker, "*": [()]})
    assert [f.name for f in base if not f.header] == list(SERVER_NOISE)
    assert [f for f in base if f.header] == list(VARSET_NARROWING)
    # a plugin that reads Newstate and every VarSet: both reach it now
    more = derive(SERVER_NOISE, {**tracker, "Newstate": [()], "VarSet": [VARSET_NARROWING, ()]})
    assert "Newstate" not in {f.name for f in more} and not [f for f in more if f.header]
    assert "DialBegin" not in {f.name for f in derive(SERVER_NOISE, {"Dial*": [()]})}


def test_the_server_session_never_filters_what_the_tracker_subscribes_to():
    client = AmiClient("127.0.0.1", 1, "u", "s", noise=SERVER_NOISE + ("Hangup", "AgentConnect"))
    CallTracker(None, None).attach(client)  # as the server attaches it
    filters = client.active_filters()
    assert not {f.name for f in filters if not f.header} & set(AMI_EVENTS)
    assert set(AMI_EVENTS) <= set(client.subscriptions) and "*" not in client.subscriptions


def test_the_client_derives_its_filters_at_login_from_its_subscriptions():
    client = AmiClient("127.0.0.1", 1, "u", "s", noise=("Newexten", "Newstate"))
    client.on("Newstate", lambda e: None)
    client.on("VarSet", lambda e: None, narrowing=VARSET_NARROWING)
    assert client.active_filters() == (EventFilter("Newexten"), *VARSET_NARROWING)


@pytest.mark.parametrize("text", [
    "Event: VarSet\r\nPrivilege: dialplan,all\r\nChannel: Local/1@t-00000001;2\r\nVariable: __HOTLINE_LINE\r\n"
    "Value: amr-12315: 市场监管\r\nUniqueid: 1795225100.80",
    "Event: Newchannel\r\nChannel: PJSIP/a-1\r\nChanVariable: A=1\r\nChanVariable: B=2\r\nLinkedid: 1.2",
    "Event: AGIExecEnd\r\nCommand: GET VARIABLE X\r\nResult: 200%20result%3D1",
    "Event: Odd\r\nno colon here\r\nEmpty: \r\nKey: a: b: c",
])
def test_fast_event_parser_makes_what_panoramisk_makes(text):
    ours, theirs = parse_event(text), Message.from_line(text)
    assert dict(ours) == dict(theirs) and list(ours) == list(theirs) and repr(ours) == repr(theirs)
    assert ours.event == theirs.event and ours.manager is None


ROUTE_DIALPLAN = """
[hotline-route]
exten => 1,1,Set(__HOTLINE_DIALED=${EXTEN})
 same => n,Set(OTHER=x)
 same => n,Goto(after,1,1)
[after]
exten => 1,1,Set(__HOTLINE_QUEUE=general)
 same => n,Set(PLAIN=y)
 same => n,Hangup()
"""


@pytest.mark.asterisk
@pytest.mark.parametrize("version", ["as reported", "legacy"])
async def test_real_asterisk_sends_the_server_only_what_it_reads(version, monkeypatch):
    """The server's filters on a real Asterisk, advanced and as regular expressions:
    no Newexten, no VarSet of the routing context or of other variables; the rest arrives."""
    if version == "legacy":  # as an Asterisk without advanced filters gets them
        monkeypatch.setattr(ami_client, "filter_actions", lambda rules, _v: filter_actions(rules, "20.0.0"))
    inst = new_instance("filters")
    inst.write_config({"extensions_route_test.conf": ROUTE_DIALPLAN})
    inst.start()
    client = AmiClient("127.0.0.1", inst.ami_port, inst.ami_user, inst.ami_secret, noise=SERVER_NOISE)
    events: list[dict] = []
    client.on("VarSet", lambda e: None, narrowing=VARSET_NARROWING)  # as the tracker subscribes
    client.on("*", lambda e: events.append(dict(e)))
    try:
        assert await client.connect(15)
        await client.action({"Action": "Originate", "Channel": "Local/1@hotline-route", "Application": "Wait",
                             "Data": "1", "Async": "true", "CallerID": '"t" <13912345678>'})
        for _ in range(100):
            if sum(e.get("Event") == "Hangup" for e in events) >= 2:
                break
            await asyncio.sleep(0.1)
        names = {e.get("Event") for e in events}
        assert "Newchannel" in names and "Hangup" in names
        assert not names & {"Newexten", "Newstate", "DialBegin", "DeviceStateChange"}
        assert [(e["Variable"], e["Value"]) for e in events if e.get("Event") == "VarSet"] == [
            ("__HOTLINE_QUEUE", "general")]
    finally:
        await client.close()
        inst.remove()
