"""The recording lab: a real 12345 center (embedded Asterisk on free ports) with
recording on, one queue whose static members are simulated agents that speak
a 1.5 kHz tone pattern, callers that speak 1 kHz, and the product's server
(FastAGI plan, AMI, store, web with the recordings plugin).

Used by tests/recordings/ and benchmarks/recording.py.
"""
from __future__ import annotations

import datetime as dt

import asyncio
import subprocess
from pathlib import Path

import aiohttp

from ivr.config.loader import load_config
from ivr.dialplan.build import instance_files
from recordings import repo
from tests.support.asterisk_harness import Ami, free_port, new_instance
from tests.support.lab import AsteriskLab

RATE = 8000
CALLER_HZ = 1000
AGENT_HZ = 1500
TOKENS = {"tok-recordings-agent-a1-0123456789": "a1", "tok-recordings-agent-a2-0123456789": "a2",
          "tok-recordings-supervisor-0123456": "sup"}

CONFIG = """
hotline: {{name: 测试市12345政务服务便民热线, city: 测试市, timezone: Asia/Shanghai}}
lines:
  - {{id: quiet-12399, name: 不录音热线, numbers: ["12399"], department: 测试局, mode: dual_number,
     effective: 2026-01-01, seats: pooled, queue: quiet}}
  - {{id: later-12318, name: 尚未并入热线, numbers: ["12318"], department: 文化局, mode: dual_number,
     effective: 2099-01-01, seats: pooled, department_target: "trunk:pstn/12318"}}
queues:
  - {{id: general, name: 12345综合座席, strategy: rrmemory, ring_timeout: 10, members: [{general}]}}
  - {{id: quiet, name: 不录音座席, strategy: rrmemory, ring_timeout: 10, members: [{quiet}]}}
trunks:
  pstn: {{type: local, context: sim-outside}}
recordings:
  enabled: {enabled}
  folder: {folder}
  local_folder: {local_folder}
  retention_days: 30
  finish_wait: 5
  skip_queues: [quiet]
  qa: {{enabled: {qa}}}
"""

AGENTS = """
; Simulated agents of the recording tests: answer, report, speak the agent's
; tone pattern (hotline/rec-agent) until the caller hangs up.
[rec-agents]
exten => _[a-z0-9].,1,Answer()
 same => n,UserEvent(RecAgent,Agent: ${EXTEN})
 same => n(loop),Playback(hotline/rec-agent)
 same => n,Goto(loop)
"""


async def scored(lab, rec_pk: int, timeout: float = 120) -> dict:
    """The QA result of recording `rec_pk` once the background worker has scored it."""
    for _ in range(int(timeout / 0.2)):
        qa = await lab.server.services.store.run(repo.get_qa, rec_pk)
        if qa:
            return qa
        await asyncio.sleep(0.2)
    raise AssertionError(f"recording {rec_pk} not scored within {timeout}s")


def make_sounds(folder: Path) -> dict[str, Path]:
    """The caller's voice (1 kHz, 3 s), the agent's (1.5 kHz beeps) and a short silent welcome."""
    folder.mkdir(parents=True, exist_ok=True)
    specs = {"rec-caller": ["synth", "3", "sine", str(CALLER_HZ), "vol", "0.5"],
             "rec-agent": ["synth", "0.4", "sine", str(AGENT_HZ), "vol", "0.5", "pad", "0", "0.1"],
             "welcome": ["trim", "0", "0.2"]}
    out = {}
    for name, effect in specs.items():
        path = out[name] = folder / f"{name}.wav"
        if not path.exists():
            subprocess.run(["sox", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(path), *effect],
                           check=True, capture_output=True)
    return out


class RecLab(AsteriskLab):
    CONFIG = CONFIG  # a variant lab (tests/recordings/heard_lab.py) brings its own plan and test files

    def __init__(self, workdir: Path, *, enabled: bool = True, agents: int = 1, qa: bool = True) -> None:
        """`agents` per queue: a1 (then g2, g3 ...) answer 12345, a2 (then q2, q3 ...) the opted-out 12399."""
        super().__init__(workdir)
        self.enabled, self.agents, self.qa = enabled, agents, qa
        self.agi_port = free_port()
        self.inst = new_instance("rec", self.agi_port)
        self.ami: Ami | None = None
        self.web_port = 0

    @property
    def folder(self) -> Path:
        """Where the server reads the recordings (the same folder Asterisk writes, from outside its root)."""
        return self.inst.host / "recordings" / "calls"

    def load(self):
        path = self.workdir / "config.yaml"
        members = {q: ", ".join(f'"Local/{a}@rec-agents/n"' for a in [first] + [f"{q[0]}{i}" for i in
                                                                             range(2, self.agents + 1)])
                   for q, first in (("general", "a1"), ("quiet", "a2"))}
        path.write_text(self.CONFIG.format(enabled=str(self.enabled).lower(),
                                           folder=f"{self.inst.inner}/recordings/calls",
                                           local_folder=self.folder, qa=str(self.qa).lower(), **members),
                        encoding="utf-8")
        return load_config(path, env={}, overrides={
            "asterisk.ami.port": self.inst.ami_port, "asterisk.ami.username": self.inst.ami_user,
            "asterisk.ami.secret": self.inst.ami_secret, "fastagi.port": self.agi_port, "web.port": 0,
            "web.tokens": TOKENS, "web.supervisors": ["sup"],
            "database.url": f"sqlite:///{self.workdir}/hotline.db"})

    async def start(self) -> None:
        self.config = self.load()
        self.inst.write_config(instance_files(self.config, "center") | self.test_files())
        for name, path in make_sounds(self.workdir / "sounds").items():
            (self.inst.sounds / path.name).write_bytes(path.read_bytes())
        self.add_sounds()
        self.boot(self.inst)
        self.ami = await self.connect(self.inst)
        # a clock keeps FastAGI in this process (no worker process to start on a loaded machine)
        await self.start_server(self.inst, clock=lambda: dt.datetime.now(dt.timezone.utc))
        self.web_port = self.server.web_port

    def test_files(self) -> dict[str, str]:
        """Test-only Asterisk config files next to the generated ones (the simulated agents)."""
        return {"extensions_rectest.conf": AGENTS}

    def add_sounds(self) -> None:
        """More sounds for a variant lab (after the tones are in the instance's sounds folder)."""

    @property
    def web_app(self):
        """The running aiohttp application (its keys: e.g. the playback signer)."""
        return self.server._runner.app

    @property
    def recordings(self):
        return self.server.services.recordings

    async def call(self, number: str = "12345", hold: int = 3) -> tuple[str, dict]:
        """A caller who speaks 1 kHz for 3 s and stays `hold` s more; returns (call id, the agent's RecAgent event)."""
        _tag, call_id, since = await self.place(number, hold)
        agent = await self.ami.wait_for(lambda e: e.get("UserEvent") == "RecAgent"
                                        and e.get("Linkedid") == call_id, since=since)
        return call_id, agent

    async def place(self, number: str = "12345", hold: int = 3) -> tuple[str, str, int]:
        """Start that caller; returns (its tag, the call id, the index of the first AMI event of the call)."""
        since = len(self.ami.events)
        tag = await self.ami.originate(number, caller_context="hotline-testcall",
                                       variables={"HOTLINE_TEST_SAY": "hotline/rec-caller",
                                                  "HOTLINE_TEST_HOLD": str(hold)},
                                       timeout_ms=(hold + 30) * 1000)
        ev = await self.ami.wait_for(lambda e: e.get("Event") == "VarSet" and e.get("Variable") == "HOTLINE_TEST_TAG"
                                     and e.get("Value") == tag, since=since)
        return tag, ev["Linkedid"], since

    def heard(self, tag: str) -> Path:
        """What a test caller heard (hotline-testcall records it; closed after the call)."""
        return self.inst.host / "recordings" / f"testcall-{tag}-heard.wav"

    async def row_for(self, call_id: str, timeout: float = 30) -> dict:
        """The recording's metadata row once the server has written it."""
        store = self.server.services.store
        for _ in range(int(timeout / 0.1)):
            rows = await store.run(repo.for_call, call_id)
            if rows:
                return rows[0]
            await asyncio.sleep(0.1)
        raise AssertionError(f"no recording row for call {call_id} within {timeout}s")

    async def ended(self, call_id: str, timeout: float = 20) -> None:
        """Until no channel of the call is left in Asterisk."""
        for _ in range(int(timeout / 0.1)):
            listing = await self.ami.action({"Action": "CoreShowChannels"})
            if not [c for c in listing if c.get("Event") == "CoreShowChannel" and c.get("Linkedid") == call_id]:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"call {call_id} still has channels after {timeout}s")

    def http(self, agent: str) -> aiohttp.ClientSession:
        token = next(t for t, a in TOKENS.items() if a == agent)
        return aiohttp.ClientSession(f"http://127.0.0.1:{self.web_port}",
                                     headers={"Authorization": f"Bearer {token}"})
