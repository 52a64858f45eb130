"""The console's side: transfer, complete and cancel over HTTP with the agent's token,
refusals, and agents logging in and out of queues (HTTP and `hotline agents`)."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from ivr.storage import repo
from tests.transfer.support import CALLER_HZ, tone_flowing

pytestmark = pytest.mark.asterisk


async def test_cancel_while_ringing_and_refusals(xlab):
    lab = xlab
    await lab.set_subcenter(SIM_MODE="noanswer")
    call, sim, legs = await lab.connected_call(owned=True)
    base = f"/api/calls/{call.call_id}/transfer"
    async with lab.http("g2") as other:
        resp = await other.post(base, json={"kind": "subcenter", "target": "tax"})
        assert resp.status == 403                       # not g2's call
        assert (await other.post(f"{base}/cancel")).status == 403
    async with lab.http("g1") as http:
        assert (await http.post(f"{base}/complete")).status == 404   # nothing in progress
        resp = await http.post(base, json={"kind": "subcenter", "target": "nowhere"})
        assert resp.status == 400
        resp = await http.post(base, json={"kind": "subcenter", "target": "tax"})
        assert resp.status == 202
        resp = await http.post(base, json={"kind": "subcenter", "target": "tax"})
        assert resp.status == 409                       # one at a time
        resp = await http.post(f"{base}/complete")
        assert resp.status == 409                       # not answered yet
        resp = await http.get(base)
        assert (await resp.json())["transfer"]["status"] == "ringing"
        resp = await http.post(f"{base}/cancel")
        assert resp.status == 200, await resp.text()
    assert await tone_flowing(lab.agent_recording(sim), CALLER_HZ) > 0.5
    rows = await lab.services.store.run(repo.transfers, call.call_id)
    assert [r["result"] for r in rows] == ["cancelled"]
    # the sub-center leg is gone, the caller and agent are still together
    channels = {c["Channel"]: c for c in await lab.channels()}
    assert channels[legs.caller]["BridgeId"] == channels[legs.agent]["BridgeId"]
    assert not [n for n in channels if n.startswith("PJSIP/subcenter-")]


async def test_agent_logs_in_and_out_over_http(xlab):
    lab = xlab
    async with lab.http("g2") as http:
        resp = await http.post("/api/agents/login", json={"queues": ["general", "hrss-expert"]})
        assert resp.status == 200, await resp.text()
        assert (await http.get("/api/agents")).status == 403          # supervisors only
        assert (await http.post("/api/agents/login", json={"agent": "g1"})).status == 403
    async with lab.http("g1") as http:  # g1 is not allowed the expert queue (web.agent_queues)
        assert (await http.post("/api/agents/login", json={"queues": ["hrss-expert"]})).status == 403
    async with lab.http("sup") as sup:  # an outside number is not an agent endpoint
        resp = await sup.post("/api/agents/login", json={"agent": "g1", "interface": "Local/13900001111@outside/n"})
        assert resp.status == 403
    async with lab.http("sup") as sup:
        queues = (await (await sup.get("/api/agents")).json())["queues"]
        assert {m["interface"] for m in queues["general"]} == {"PJSIP/g2"}
        assert {m["agent"] for m in queues["hrss-expert"]} == {"g2"}
    async with lab.http("g2") as http:
        resp = await http.post("/api/agents/logout", json={})
        assert resp.status == 200 and sorted((await resp.json())["queues"]) == ["general", "hrss-expert"]
    async with lab.http("sup") as sup:
        queues = (await (await sup.get("/api/agents")).json())["queues"]
        assert queues["general"] == [] and queues["hrss-expert"] == []


def _cli(lab, *args: str) -> subprocess.CompletedProcess:
    path = lab.workdir / "cli-config.yaml"
    path.write_text(lab.write_config().read_text(encoding="utf-8")
                    + f"asterisk: {{ami: {{port: {lab.center.ami_port}, username: {lab.center.ami_user}}}}}\n",
                    encoding="utf-8")
    env = {**os.environ, "HOTLINE_AMI_SECRET": lab.center.ami_secret}
    return subprocess.run([sys.executable, "-m", "ivr.cli", "agents", *args, "-c", str(path)],
                          capture_output=True, text=True, env=env, timeout=60)


async def test_hotline_agents_command(xlab):
    lab = xlab
    run = lambda *a: asyncio.to_thread(_cli, lab, *a)  # noqa: E731
    out = await run("login", "a7", "-q", "general", "--interface", "Local/a7@sim-agents/n")
    assert out.returncode == 0, out.stderr
    out = await run("list")
    assert "a7" in out.stdout.split("general:")[1].splitlines()[0]
    call = await lab.place("12345")
    await lab.answered_by(call, "a7")          # the logged-in agent takes calls
    out = await run("logout", "a7")
    assert out.returncode == 0 and "general" in out.stdout
    out = await run("login", "a7", "-q", "nosuchqueue")
    assert out.returncode == 1 and "no queue 'nosuchqueue'" in out.stderr
