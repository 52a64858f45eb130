"""The floor: a real Asterisk reaches a FastAGI route of our server, and we
see through AMI what that route did to the channel."""
from __future__ import annotations

import pytest

from ivr.agi.server import FastAgiServer

pytestmark = pytest.mark.asterisk


@pytest.fixture
async def agi_server(agi_port):
    server = FastAgiServer("127.0.0.1", agi_port, header_timeout=2, command_timeout=5)
    await server.start()
    yield server
    await server.stop()


async def test_call_reaches_fastagi_route_and_ami_sees_variable(center_ami, agi_server):
    ami = center_ami
    since = len(ami.events)
    tag = await ami.originate("diag", context="test-agi", caller_context="test-wait")
    varset = await ami.wait_for(lambda e: e.get("Event") == "VarSet" and e.get("Variable") == "HOTLINE_DIAG_ARG"
                                and e.get("Value") == tag, since=since)
    assert varset["Channel"].startswith("Local/diag@test-agi")
    done = await ami.wait_for(lambda e: e.get("UserEvent") == "DiagDone" and e.get("Tag") == tag, since=since)
    assert done["Status"] == "SUCCESS"
    assert done["Diag"] == "ok"
    assert agi_server.calls_served >= 1


async def test_unknown_route_sends_call_to_general_queue_fallback(center_ami, agi_server):
    ami = center_ami
    since = len(ami.events)
    tag = await ami.originate("unknown", context="test-agi", caller_context="test-wait")
    done = await ami.wait_for(lambda e: e.get("UserEvent") == "UnknownDone" and e.get("Tag") == tag, since=since)
    assert done["Action"] == "queue"
    assert done["Fallback"] == "1"
