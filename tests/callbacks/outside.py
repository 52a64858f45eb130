"""The callback lab: the real 12345 center, a simulated outside world (a second
Asterisk reached over a PJSIP trunk) that answers, is busy, does not answer,
rejects, is congested or does not exist by number, and the product's server
with the outbound engine on.

The outside world reports every call it receives (UserEvent OutsideCall:
number, caller ID), so a test sees what the citizen's phone saw.
"""
from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from ivr.config.loader import load_config
from ivr.dialplan.build import instance_files
from tests.support.asterisk_harness import Ami, free_port, new_instance
from tests.support.lab import AsteriskLab

CONFIG = """
hotline: {{name: 测试市12345政务服务便民热线, city: 测试市, timezone: Asia/Shanghai}}
queues:
  - {{id: general, name: 12345综合座席}}
  - {{id: vhold, name: 回电测试}}
  - {{id: revisit, name: 回访转人工}}
trunks:
  pstn: {{type: pjsip, endpoint: outside, host: "127.0.0.1:{port}"}}
callbacks:
  enabled: true
  trunk: pstn
  channels: 3
  reserve_inbound: 1
  max_attempts: 2
  ring_timeout: 5
  poll_seconds: 0.2
  missed_after: 2
  missed_delay: 0
  queue_callback: {{vhold: 2}}
  rating: {{queues: [vhold]}}
  campaigns:
    c2q:
      - {{id: satisfaction, prompt: 满意请按1，不满意请按3, keys: {{"1": 满意, "3": 不满意}}, redo: ["3"]}}
      - {{id: solved, prompt: 已解决请按1，未解决请按2, keys: {{"1": 已解决, "2": 未解决}}, redo: ["2"]}}
  offer_agent: {{default: {{queue: revisit, prompt: 如需人工服务请按0}}}}
  retry_after: {{busy: 1, no_answer: 1, rejected: 1, unreachable: 1, congestion: 1, failed: 1}}
  calendars: []
  windows: {{mon: ["00:00-24:00"], tue: ["00:00-24:00"], wed: ["00:00-24:00"], thu: ["00:00-24:00"],
            fri: ["00:00-24:00"], sat: ["00:00-24:00"], sun: ["00:00-24:00"], makeup: ["00:00-24:00"],
            holiday: ["00:00-24:00"]}}
"""

OUTSIDE_PJSIP = """
[center]
type = aor
contact = sip:127.0.0.1:{center_port}

[center]
type = endpoint
context = outside-world
aors = center
disallow = all
allow = ulaw,alaw
direct_media = no
rtp_symmetric = yes

[anonymous]
type = endpoint
context = outside-world
disallow = all
allow = ulaw,alaw
direct_media = no
rtp_symmetric = yes
"""

CENTER_IDENTIFY = """
[outside-identify]
type = identify
endpoint = outside
match = 127.0.0.1
"""

# 1390000001x: one behaviour each; 139000001xx: answer and stay 3 s (cap tests);
# 139000002xx: answer, stay 8 s, then press 1 (restart tests); 139000003xx: answer, stay 6 s;
# 139000004xx: answer, stay 3 s (inbound tests).
OUTSIDE_DIALPLAN = """
[outside-world]
exten => _X.,1,UserEvent(OutsideCall,Number: ${EXTEN},Caller: ${CALLERID(num)})
 same => n,Goto(outside-${EXTEN:0:10},${EXTEN},1)

; 1391xxxxxxY (benchmarks/callback.py), by the last digit Y: 0-6 answer and press 1
; after 1 s, 7-8 busy, 9 rings until the center gives up: 30 % busy or no answer.
exten => _1391XXXXXXX,1,UserEvent(OutsideCall,Number: ${EXTEN},Caller: ${CALLERID(num)})
 same => n,Goto(bench-${EXTEN:-1:1},${EXTEN},1)

[bench-0]
exten => _X.,1,Answer()
 same => n,Wait(1)
 same => n,SendDTMF(1)
 same => n,Wait(10)
 same => n,Hangup()

[bench-1]
include => bench-0
[bench-2]
include => bench-0
[bench-3]
include => bench-0
[bench-4]
include => bench-0
[bench-5]
include => bench-0
[bench-6]
include => bench-0
[bench-7]
exten => _X.,1,Hangup(17)
[bench-8]
include => bench-7
[bench-9]
exten => _X.,1,Ringing()
 same => n,Wait(60)

[outside-1390000001]
exten => 13900000011,1,Answer()
 same => n,Wait(2)
 same => n,SendDTMF(2)
 same => n,Wait(8)
 same => n,Hangup()
exten => 13900000012,1,Busy(5)
exten => 13900000013,1,Ringing()
 same => n,Wait(60)
exten => 13900000014,1,Hangup(21)
exten => 13900000015,1,Congestion(5)
exten => 13900000016,1,Hangup(1)
exten => 13900000017,1,Answer()
 same => n,Wait(2)
 same => n,SendDTMF(3)
 same => n,Wait(8)
 same => n,Hangup()

[outside-1390000010]
exten => _X.,1,Answer()
 same => n,Wait(3)
 same => n,Hangup()

[outside-1390000040]
exten => _X.,1,Answer()
 same => n,Wait(3)
 same => n,Hangup()

; 139000005xx: a queue-callback citizen answers and stays 10 s.
[outside-1390000050]
exten => _X.,1,Answer()
 same => n,Wait(10)
 same => n,Hangup()

; 139000007xx: a caller-first queue-callback citizen answers and speaks (a 1 kHz tone) 12 s.
[outside-1390000070]
exten => _X.,1,Answer()
 same => n,Playtones(1000)
 same => n,Wait(12)
 same => n,Hangup()

; 139000006xx: a two-question survey answered 1 (满意) then 2 (未解决).
[outside-1390000060]
exten => _X.,1,Answer()
 same => n,Wait(1.5)
 same => n,SendDTMF(1)
 same => n,Wait(1.5)
 same => n,SendDTMF(2)
 same => n,Wait(4)
 same => n,Hangup()

; 139000009xx: the default survey: ...901 presses 3 (不满意), then 0 at the offer
; and stays 12 s (with the agent); ...902 presses 1 (满意) and stays 6 s.
[outside-1390000090]
exten => 13900000901,1,Answer()
 same => n,Wait(2)
 same => n,SendDTMF(3)
 same => n,Wait(1.5)
 same => n,SendDTMF(0)
 same => n,Wait(12)
 same => n,Hangup()
exten => 13900000902,1,Answer()
 same => n,Wait(2)
 same => n,SendDTMF(1)
 same => n,Wait(6)
 same => n,Hangup()

[outside-1390000030]
exten => _X.,1,Answer()
 same => n,Wait(6)
 same => n,Hangup()

[outside-1390000020]
exten => _X.,1,Answer()
 same => n,Wait(8)
 same => n,SendDTMF(1)
 same => n,Wait(8)
 same => n,Hangup()
"""


def _tone(path: Path, seconds: float) -> None:
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "synth", str(seconds), "sine", "440",
                    "vol", "0.3"], check=True, capture_output=True)


class CallbackLab(AsteriskLab):
    def __init__(self, workdir: Path, overrides: dict | None = None) -> None:
        super().__init__(workdir)
        self.overrides = dict(overrides or {})  # dotted config paths, e.g. {"callbacks.channels": 12}
        self.agi_port = free_port()
        self.outside = new_instance("cbout")
        self.center = new_instance("cbcenter", self.agi_port)
        self.ami: Ami | None = None          # test-side view of the outside world
        self.center_ami: Ami | None = None   # ... and of the center
        self.outside_extra: dict[str, str] = {}  # more files for the outside world (extensions_*.conf)

    @property
    def recordings(self) -> Path:
        """The center's recordings (the simulated agents record what they hear there)."""
        return self.center.host / "recordings"

    def load(self):
        path = self.workdir / "config.yaml"
        path.write_text(CONFIG.format(port=self.outside.sip_port), encoding="utf-8")
        return load_config(path, env={}, overrides={
            "asterisk.ami.port": self.center.ami_port, "asterisk.ami.username": self.center.ami_user,
            "asterisk.ami.secret": self.center.ami_secret, "fastagi.port": self.agi_port, "web.port": 0,
            "web.tokens": {"tok-workorder-system-0123456789": "wos", "tok-general-agent-g1-0123456789": "g1",
                           "tok-vhold-agent-v1-0123456789": "v1"},
            "web.supervisors": ["wos"], "database.url": f"sqlite:///{self.workdir}/hotline.db"} | self.overrides)

    async def start(self) -> None:
        self.config = self.load()
        self.outside.write_config({"pjsip_outside.conf": OUTSIDE_PJSIP.format(center_port=self.center.sip_port),
                                   "extensions_outside.conf": OUTSIDE_DIALPLAN} | self.outside_extra)
        # Calls from the outside world arrive on the trunk's endpoint (as a
        # gateway's would, by its address), so they count as inbound on the trunk.
        self.center.write_config(instance_files(self.config, "center") | {"pjsip_identify.conf": CENTER_IDENTIFY})
        for name, seconds in (("callback-survey", 1.0), ("callback-thanks", 0.3), ("queue-callback-offer", 0.5),
                              ("queue-callback-ok", 0.3), ("queue-callback-hello", 0.3), ("callback-rating", 1.0),
                              ("callback-q-c2q-satisfaction", 0.5), ("callback-q-c2q-solved", 0.5),
                              ("callback-offer-default", 0.5)):
            _tone(self.center.sounds / f"{name}.wav", seconds)
        self.boot(self.outside, self.center)
        self.ami = await self.connect(self.outside)
        self.center_ami = await self.connect(self.center)
        await self.start_server()

    async def start_server(self) -> None:
        """The product's server on the center (again after `stop_server()`: a restart)."""
        await super().start_server(self.center)

    @property
    def engine(self):
        return self.server.services.callbacks

    def outside_calls(self, number: str | None = None) -> list[dict]:
        return [e for e in self.ami.events if e.get("Event") == "UserEvent" and e.get("UserEvent") == "OutsideCall"
                and (number is None or e.get("Number") == number)]

    async def task_for(self, flow: str, number: str, timeout: float = 20) -> dict:
        """The first task of `flow` for `number`, once the engine has made it (bounded)."""
        from callbacks import repo

        for _ in range(int(timeout / 0.2)):
            found = [t for t in await self.engine.store.run(repo.list_tasks)
                     if t["flow"] == flow and t["number"] == number]
            if found:
                return found[0]
            await asyncio.sleep(0.2)
        raise AssertionError(f"no {flow} task for {number} within {timeout}s")

    async def settled(self, task_ids: list[int], timeout: float = 60) -> list[dict]:
        """The tasks once none is pending or dialing (bounded)."""
        from callbacks import repo

        for _ in range(int(timeout / 0.25)):
            tasks = [await self.server.services.store.run(repo.get_task, i) for i in task_ids]
            if all(t["state"] not in ("pending", "dialing") for t in tasks):
                return tasks
            await asyncio.sleep(0.25)
        raise AssertionError(f"tasks not settled in {timeout}s: {[(t['id'], t['state']) for t in tasks]}")
