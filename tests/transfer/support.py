"""The transfer lab: a real 12345 center and a real sub-center (two Asterisk
instances on fresh loopback ports, joined by a PJSIP trunk), the real server
parts (FastAGI plan, AMI tracker, SQLite store, web hub and API, the transfer
service), callers that speak a known tone pattern, and audio checks.

Used by tests/transfer/ and by benchmarks/transfers.py.
"""
from __future__ import annotations

import asyncio
import math
import shutil
import subprocess
from array import array
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp

from ivr.asterisk.embedded import static_files
from ivr.config.loader import load_config
from ivr.dialplan.build import instance_files
from ivr.server import Services
from tests.support.asterisk_harness import Ami, free_port, free_sip_port, new_instance
from tests.support.lab import AsteriskLab
from transfer.service import TransferService

HERE = Path(__file__).parent
RATE = 8000
CALLER_HZ = 1000      # the caller's "voice": 1 kHz beeps (0.4 s on, 0.1 s off)
SUBCENTER_HZ = 1500   # the sub-center agent's "voice"
CALLER_NUMBER = "13912345678"
TOKENS = {"tok-general-agent-g1-0123456789": "g1", "tok-general-agent-g2-0123456789": "g2",
          "tok-supervisor-sup-0123456789ab": "sup"}

CONFIG = """
hotline: {{name: 测试市12345政务服务便民热线, city: 测试市, timezone: Asia/Shanghai}}
lines:
  - {{id: hrss-12333, name: 人社服务电话, numbers: ["12333"], department: 市人社局, mode: dual_number,
     effective: 2026-01-01, seats: pooled, queue: hrss-expert, department_target: "trunk:pstn/12333"}}
  - {{id: market-12315, name: 市场监管投诉举报热线, numbers: ["12315"], department: 市市场监管局,
     mode: dual_number, effective: 2026-01-01, seats: retained, department_target: "trunk:pstn/09438212315"}}
  - {{id: tax-12366, name: 税务服务热线, numbers: ["12366"], department: 市税务局, mode: sub_center,
     effective: 2026-01-01, sub_center: tax, department_target: "subcenter:tax"}}
queues:
  - {{id: general, name: 12345综合座席, strategy: rrmemory, ring_timeout: 5}}
  - {{id: hrss-expert, name: 人社专家座席, strategy: ringall, ring_timeout: 10, overflow_after: {overflow}, overflow_to: general}}
sub_centers:
  - {{id: tax, name: 税务分中心, trunk: subcenter, numbers: ["12366"], answer_timeout: {answer}}}
  - {{id: down, name: 停机分中心, trunk: deadtrunk, numbers: ["12399"], answer_timeout: {answer}}}
trunks:
  pstn: {{type: local, context: sim-outside}}
  subcenter: {{type: pjsip, endpoint: subcenter, host: "127.0.0.1:{sub_port}"}}
  deadtrunk: {{type: pjsip, endpoint: deadtrunk, host: "127.0.0.1:{dead_port}"}}
emergency: {{trunk: pstn}}
utilities:
  - {{number: "09438220001", name: 供水服务热线, trunk: pstn}}
  - {{number: "95598", name: 供电服务热线, trunk: subcenter}}
provincial: {{number: "093112345", name: 甘肃省12345, trunk: pstn}}
"""


def make_voices(folder: Path) -> dict[str, Path]:
    """The caller's and the sub-center agent's voices as 8 kHz WAVs (sox)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {"xfer-caller": folder / "xfer-caller.wav", "xfer-subcenter": folder / "xfer-subcenter.wav"}
    for (name, path), hz, repeats in zip(out.items(), (CALLER_HZ, SUBCENTER_HZ), (119, 39)):
        if not path.exists():
            subprocess.run(["sox", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(path),
                            "synth", "0.4", "sine", str(hz), "vol", "0.5", "pad", "0", "0.1", "repeat", str(repeats)],
                           check=True, capture_output=True)
    return out


# -- audio checks ------------------------------------------------------------------
def pcm(path: Path) -> array:
    """16-bit samples of a (possibly still growing) Asterisk .wav recording."""
    data = path.read_bytes()[44:]
    samples = array("h")
    samples.frombytes(data[: len(data) // 2 * 2])
    return samples


def tone_share(samples: array, hz: float, start_s: float = 0.0, end_s: float | None = None, block: int = 160) -> float:
    """Share of 20 ms blocks in [start_s, end_s) where a tone at `hz` dominates (Goertzel)."""
    first = int(start_s * RATE)
    last = len(samples) if end_s is None else min(len(samples), int(end_s * RATE))
    coeff = 2 * math.cos(2 * math.pi * hz / RATE)
    hits = total = 0
    for i in range(first, last - block + 1, block):
        s1 = s2 = energy = 0.0
        for x in samples[i:i + block]:
            s1, s2 = x + coeff * s1 - s2, s1
            energy += x * x
        total += 1
        power = s1 * s1 + s2 * s2 - coeff * s1 * s2
        if energy > block * 100 ** 2 and 2 * power / (block * energy) > 0.5:
            hits += 1
    return hits / total if total else 0.0


async def tone_flowing(path: Path, hz: float, seconds: float = 2.0, timeout: float = 8.0) -> float:
    """Tone share in the next `seconds` of audio written to a live recording.

    A recording grows only while audio arrives: no audio, no growth, share 0.
    """
    await asyncio.sleep(0.3)  # let a change just made reach the file
    start = (path.stat().st_size - 44) / 2 / RATE
    for _ in range(int(timeout / 0.2)):
        if (path.stat().st_size - 44) / 2 / RATE >= start + seconds + 0.1:
            break
        await asyncio.sleep(0.2)
    return tone_share(pcm(path), hz, start, start + seconds)


# -- the lab --------------------------------------------------------------------------
@dataclass
class LabCall:
    tag: str
    call_id: str


class Lab(AsteriskLab):
    def __init__(self, workdir: Path, *, answer_timeout: int = 4, overflow_after: int = 3) -> None:
        super().__init__(workdir)
        self.answer_timeout, self.overflow_after = answer_timeout, overflow_after
        self.sub = new_instance("xsub")
        self.agi_port = free_port()
        self.center = new_instance("xcenter", self.agi_port)
        self.dead_port = free_sip_port()  # nothing listens there: a trunk that is down
        self.services: Services | None = None
        self.ami: Ami | None = None        # test-side view of the center (every event)
        self.sub_ami: Ami | None = None
        self.web_port = 0

    @property
    def transfers(self) -> TransferService:
        return self.services.transfers

    def recordings(self, inst=None) -> Path:
        return (inst or self.center).host / "recordings"

    def write_config(self) -> Path:
        path = self.workdir / "config.yaml"
        path.write_text(CONFIG.format(sub_port=self.sub.sip_port, dead_port=self.dead_port,
                                      answer=self.answer_timeout, overflow=self.overflow_after), encoding="utf-8")
        return path

    def load(self):
        return load_config(self.write_config(), env={}, overrides={
            "asterisk.ami.port": self.center.ami_port, "asterisk.ami.username": self.center.ami_user,
            "asterisk.ami.secret": self.center.ami_secret, "fastagi.port": self.agi_port, "web.port": 0,
            "web.tokens": TOKENS, "web.supervisors": ["sup"],
            "web.agent_queues": {"*": ["general"], "g2": ["hrss-expert"]},
            "database.url": f"sqlite:///{self.workdir}/hotline.db"})

    async def start(self) -> None:
        voices = make_voices(self.workdir / "voices")
        self.config = self.load()
        self.sub.write_config(static_files("subcenter"))
        extra = {p.name: p.read_text(encoding="utf-8") for p in HERE.glob("extensions_*.conf")}
        self.center.write_config(instance_files(self.config, "center") | extra)
        for inst in (self.center, self.sub):
            for name, path in voices.items():
                shutil.copy(path, inst.sounds / f"{name}.wav")
        self.boot(self.sub, self.center)
        self.ami = await self.connect(self.center)
        self.sub_ami = await self.connect(self.sub)
        # The product's own server (FastAGI, AMI, tracker, transfers, web) on the center.
        self.services = (await self.start_server(self.center)).services
        self.web_port = self.server.web_port

    # -- driving calls ----------------------------------------------------------------
    async def place(self, number: str = "12345", *, hold: int = 60, callerid: str = CALLER_NUMBER) -> LabCall:
        """A caller dials `number` and speaks the 1 kHz pattern; returns once the call has an id."""
        since = len(self.ami.events)
        tag = await self.ami.originate(number, caller_context="hotline-testcall", callerid=callerid,
                                       variables={"HOTLINE_TEST_SAY": "hotline/xfer-caller",
                                                  "HOTLINE_TEST_HOLD": str(hold)},
                                       timeout_ms=(hold + 30) * 1000)
        ev = await self.ami.wait_for(lambda e: e.get("Event") == "VarSet" and e.get("Variable") == "HOTLINE_TEST_TAG"
                                     and e.get("Value") == tag, since=since)
        return LabCall(tag, ev["Linkedid"])

    async def answered_by(self, call: LabCall, agent: str, timeout: float = 20) -> dict:
        """Wait until `agent` (a sim agent) has answered `call`; returns its SimAgent event."""
        return await self.ami.wait_for(lambda e: e.get("UserEvent") == "SimAgent" and e.get("Agent") == agent
                                       and e.get("Linkedid") == call.call_id, timeout=timeout)

    async def connected_call(self, agent: str = "g1", *, owned: bool = False):
        """A 12345 caller answered by `agent` (logged in first): (call, its SimAgent event, its legs).

        `owned`: also wait until the agent owns the call (what the HTTP API checks)."""
        await self.login(agent)
        call = await self.place("12345")
        sim = await self.answered_by(call, agent)
        if owned:
            await self.owned_by(call, agent)
        legs = await self.legs(call)
        assert legs is not None and legs.agent, "the call model did not see the agent answer"
        return call, sim, replace(legs)  # a snapshot: the model forgets the agent when it leaves

    async def legs(self, call: LabCall, timeout: float = 10):
        """The call's legs in the one call model once its agent is known (the tracker applies
        AMI events in its own task, a moment after this test's AMI session reads them)."""
        for _ in range(int(timeout / 0.02)):
            legs = self.transfers.calls.legs(call.call_id)
            if legs is not None and legs.agent:
                return legs
            await asyncio.sleep(0.02)
        return self.transfers.calls.legs(call.call_id)

    def hangup_index(self, channel: str, since: int) -> int | None:
        """Index in the center's AMI events of `channel`'s Hangup after `since`; None: still up."""
        return next((i for i, e in enumerate(self.ami.events[since:], since)
                     if e.get("Event") == "Hangup" and e.get("Channel") == channel), None)

    async def owned_by(self, call: LabCall, agent: str, timeout: float = 10) -> None:
        """Until the web hub shows `agent` as the call's owner (the API's permission check)."""
        for _ in range(int(timeout / 0.05)):
            if self.services.hub.calls.owner(call.call_id) == agent:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{agent} never became the owner of call {call.call_id} on the hub")

    async def until_status(self, call: LabCall, status: str, timeout: float = 10) -> None:
        """Until the call's transfer in progress has reached `status` (connected, consulting ...)."""
        for _ in range(int(timeout / 0.05)):
            if (self.transfers.status(call.call_id) or {}).get("status") == status:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"transfer of {call.call_id} never reached {status}: {self.transfers.status(call.call_id)}")

    def agent_recording(self, sim_event: dict) -> Path:
        return self.recordings() / f"agent-{sim_event['Agent']}-{sim_event['Uniqueid']}.wav"

    async def subcenter_answer(self, since: int = 0, timeout: float = 20) -> dict:
        return await self.sub_ami.wait_for(lambda e: e.get("UserEvent") == "SubcenterAgent", since=since,
                                           timeout=timeout)

    def subcenter_heard(self, ev: dict) -> Path:
        return self.recordings(self.sub) / f"subcenter-{ev['Uniqueid']}-heard.wav"

    async def channels(self, ami: Ami | None = None) -> list[dict]:
        listing = await (ami or self.ami).action({"Action": "CoreShowChannels"})
        return [dict(c) for c in listing if c.get("Event") == "CoreShowChannel"]

    async def set_subcenter(self, **globals_: str) -> None:
        """Sub-center simulator behaviour (SIM_MODE, SIM_SAY, SIM_HOLD, SIM_RECORD)."""
        for name, value in globals_.items():
            await self.sub_ami.action({"Action": "Setvar", "Variable": name, "Value": value})

    async def restart_subcenter(self) -> None:
        """Start the sub-center again after a test stopped it, and wait for its AMI."""
        self.sub.start()
        for _ in range(100):
            try:
                await asyncio.wait_for(self.sub_ami.manager.send_action({"Action": "Ping"}), 1)
                return
            except Exception:  # not reconnected yet
                await asyncio.sleep(0.2)
        raise AssertionError("the sub-center's AMI did not come back")

    async def hangup_all(self) -> None:
        """End every call on both instances (between tests)."""
        for ami in (self.ami, self.sub_ami):
            for c in await self.channels(ami):
                await ami.action({"Action": "Hangup", "Channel": c["Channel"]})
        for _ in range(50):
            if not await self.channels() and not await self.channels(self.sub_ami):
                return
            await asyncio.sleep(0.1)

    def http(self, agent: str) -> aiohttp.ClientSession:
        token = next(t for t, a in TOKENS.items() if a == agent)
        return aiohttp.ClientSession(f"http://127.0.0.1:{self.web_port}",
                                     headers={"Authorization": f"Bearer {token}"})

    async def login(self, agent: str, queue: str = "general", context: str = "sim-agents") -> None:
        from transfer.agents import AgentDesk

        await AgentDesk(self.config, self.services.ami).login(agent, [queue], interface=f"Local/{agent}@{context}/n")

    async def logout_all(self) -> None:
        from transfer.agents import AgentDesk

        desk = AgentDesk(self.config, self.services.ami)
        for qid, members in (await desk.members()).items():
            for m in members:
                await desk.logout(m["agent"], [qid], interface=m["interface"])
