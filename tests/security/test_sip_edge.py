"""The SIP edge (issue 11): only identified trunks and authenticated agents reach the plan.

A production render (asterisk.embedded: false) has no anonymous endpoint: an
INVITE from a source no trunk `match`es (127.0.0.2 here) is refused by the
real Asterisk with 401/403, whatever user it claims to be, and no channel
enters hotline-inbound, emergency numbers included. The configured trunk
source (127.0.0.1) still routes.
"""
from __future__ import annotations

import copy

import pytest

from ivr.config.model import Config
from ivr.dialplan.apply import expected
from ivr.dialplan.build import instance_files, render_pjsip
from transfer.dialplan import agent_ids, render_agent_auth
from tests.support.asterisk_harness import Ami, free_port, new_instance
from tests.security import sipp

pytestmark = pytest.mark.asterisk


def production(shipped: Config) -> Config:
    data = copy.deepcopy(shipped.model_dump(mode="json"))
    data["asterisk"]["embedded"] = False
    data["trunks"]["gw"] = {"type": "pjsip", "endpoint": "gw", "host": "127.0.0.1:5999", "match": ["127.0.0.1/32"]}
    return Config.model_validate(data)


def test_production_render_has_no_anonymous_endpoint(shipped_config):
    config = production(shipped_config)
    text = render_pjsip(config)
    assert "[anonymous]" not in text
    assert "[gw-identify]\ntype = identify\nendpoint = gw\nmatch = 127.0.0.1/32\n" in text
    # the sub-center trunk has no `match`: outbound only, never identified by its From user
    assert "identify_by = ip" in text.split("[subcenter]\ntype = endpoint")[1].split("\n\n")[0]
    assert "anonymous" not in expected(config).endpoints
    assert "anonymous" in expected(shipped_config).endpoints  # the embedded demo keeps it


@pytest.fixture(scope="module")
async def edge(shipped_config):
    inst = new_instance("edge", agi_port=free_port())  # no FastAGI there: routed calls take the fail-safe
    config = production(shipped_config)
    passwords = ",".join(f"{a}=pw-{a}-x7" for a in agent_ids(config))  # agents authenticate, as deployed
    auth, _ = render_agent_auth(config, {"HOTLINE_AGENT_PASSWORDS": passwords})
    inst.write_config(instance_files(config, "center") | {"pjsip_agents_auth.conf": auth})
    inst.start()
    ami = await Ami(inst).connect()
    yield inst, ami
    ami.close()
    inst.remove()


@pytest.mark.parametrize("number,user", [("12345", "sipp"), ("110", "gw"), ("12312", "agent1001")])
async def test_unknown_source_is_refused_and_never_reaches_the_plan(edge, tmp_path, number, user):
    inst, ami = edge
    since = len(ami.events)
    result = await sipp.call(f"127.0.0.1:{inst.sip_port}", number, source="127.0.0.2",
                             scenario=sipp.refused_scenario(tmp_path, user))
    assert result.returncode == 0, f"not refused with 401/403:\n{result.output[-6000:]}"
    seen = ami.events[since:]
    assert not [e for e in seen if e.get("Event") == "Newchannel" and e.get("Channel", "").startswith("PJSIP/")]
    assert not [e for e in seen if e.get("Context") == "hotline-inbound"]


async def test_configured_trunk_source_still_routes(edge):
    inst, ami = edge
    since = len(ami.events)
    result = await sipp.call(f"127.0.0.1:{inst.sip_port}", "110", source="127.0.0.1")
    assert result.returncode == 0, result.output[-3000:]
    # the emergency call passed through: the (simulated) 110 answered it
    await ami.wait_for(lambda e: e.get("Event") == "Newexten" and e.get("Context") == "sim-outside"
                       and e.get("Exten") == "110" and e.get("Application") == "Answer", timeout=10, since=since)
    seen = ami.events[since:]
    channels = {e["Channel"] for e in seen if e.get("Event") == "Newchannel" and e.get("Exten") == "110"}
    assert any(c.startswith("PJSIP/gw-") for c in channels), channels
    assert [e for e in seen if e.get("Event") == "Newexten" and e.get("Context") == "hotline-inbound"
            and e.get("Exten") == "110" and e.get("Channel", "").startswith("PJSIP/gw-")]
