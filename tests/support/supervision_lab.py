"""A real 12345 center for the supervision tests: one embedded Asterisk on free ports, the product's
server (FastAGI, AMI, tracker, plugins with supervision, web) and test-side phones:

  callers    dial 12345 from the `hotline-testcall` context (dialplans/center), silent unless told,
             recording what they hear (testcall-<tag>-heard.wav)
  agents     queue members Local/<id>@sim-agents/n: answer, record what they hear, stay on
  supervisor Local/sup@sup-phone/n: answers, plays a 2 kHz tone (their "voice"), records what it hears
"""
from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import aiohttp

from ivr.config.loader import load_config
from ivr.dialplan.build import instance_files
from tests.support.asterisk_harness import Ami, free_port, new_instance
from tests.support.lab import AsteriskLab

RATE = 8000
SUPERVISOR_HZ = 2000
TOKENS = {"tok-agent-g1-0123456789abcdef": "g1", "tok-agent-g2-0123456789abcdef": "g2",
          "tok-supervisor-sup-0123456789ab": "sup"}
CONFIG = """
hotline: {name: 测试市12345政务服务便民热线, city: 测试市, timezone: Asia/Shanghai}
queues:
  - {id: general, name: 12345综合座席, strategy: rrmemory, ring_timeout: 5}
trunks:
  pstn: {type: local, context: sim-outside}
emergency: {trunk: pstn}
supervision:
  endpoints: {sup: "Local/sup@sup-phone/n"}
  poll_interval: 0.5
"""
PHONE = """
[sup-phone]
exten => _[a-z0-9].,1,Answer()
 same => n,UserEvent(SupPhone,Who: ${EXTEN})
 same => n,MixMonitor(${HOTLINE_RECORDINGS}/sup-${EXTEN}-${UNIQUEID}.wav)
 same => n(loop),Playback(hotline/sup-voice)
 same => n,Goto(loop)
"""


class SupervisionLab(AsteriskLab):
    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.agi_port = free_port()
        self.center = new_instance("supv", self.agi_port)
        self.ami: Ami | None = None

    @property
    def recordings(self) -> Path:
        return self.center.host / "recordings"

    async def start(self) -> None:
        path = self.workdir / "config.yaml"
        path.write_text(CONFIG, encoding="utf-8")
        self.config = load_config(path, env={}, overrides={
            "asterisk.ami.port": self.center.ami_port, "asterisk.ami.username": self.center.ami_user,
            "asterisk.ami.secret": self.center.ami_secret, "fastagi.port": self.agi_port, "web.port": 0,
            "web.tokens": TOKENS, "web.supervisors": ["sup"], "database.url": f"sqlite:///{self.workdir}/hotline.db"})
        self.center.write_config(instance_files(self.config, "center") | {"extensions_suptest.conf": PHONE})
        voice = self.center.sounds / "sup-voice.wav"
        voice.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["sox", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(voice), "synth", "3", "sine",
                        str(SUPERVISOR_HZ), "vol", "0.5"], check=True, capture_output=True)
        self.boot(self.center)
        self.ami = await self.connect(self.center)
        await self.start_server(self.center)

    def http(self, agent: str) -> aiohttp.ClientSession:
        token = next(t for t, a in TOKENS.items() if a == agent)
        return aiohttp.ClientSession(f"http://127.0.0.1:{self.server.web_port}",
                                     headers={"Authorization": f"Bearer {token}"})

    async def login(self, agent: str, queue: str = "general") -> None:
        await self.ami.action({"Action": "QueueAdd", "Queue": f"hotline-{queue}", "MemberName": agent,
                               "Interface": f"Local/{agent}@sim-agents/n"}, as_list=False)

    async def logout(self, agent: str, queue: str = "general") -> None:
        await self.ami.action({"Action": "QueueRemove", "Queue": f"hotline-{queue}",
                               "Interface": f"Local/{agent}@sim-agents/n"}, as_list=False)

    async def answered_call(self, agent: str, hold: int = 40) -> tuple[str, dict]:
        """A silent caller dials 12345 and `agent` answers: (the caller's tag, the SimAgent event)."""
        await self.login(agent)
        since = len(self.ami.events)
        tag = await self.ami.originate("12345", caller_context="hotline-testcall",
                                       variables={"HOTLINE_TEST_HOLD": str(hold)}, timeout_ms=(hold + 30) * 1000)
        sim = await self.ami.wait_for(lambda e: e.get("UserEvent") == "SimAgent" and e.get("Agent") == agent,
                                      since=since)
        return tag, sim

    def caller_heard(self, tag: str) -> Path:
        return self.recordings / f"testcall-{tag}-heard.wav"

    def agent_heard(self, sim: dict) -> Path:
        return self.recordings / f"agent-{sim['Agent']}-{sim['Uniqueid']}.wav"

    async def hangup_all(self) -> None:
        listing = await self.ami.action({"Action": "CoreShowChannels"})
        for c in [dict(e) for e in listing if e.get("Event") == "CoreShowChannel"]:
            await self.ami.action({"Action": "Hangup", "Channel": c["Channel"]})
        for _ in range(50):
            listing = await self.ami.action({"Action": "CoreShowChannels"})
            if not [e for e in listing if e.get("Event") == "CoreShowChannel"]:
                return
            await asyncio.sleep(0.1)
