"""The recording lab as a caller and a desk-phone agent live it (test_notice_asterisk.py, test_hold_asterisk.py).

RecLab (tests/recordings/lab.py) with the notice prompt on and more lines,
each reaching one queue with one kind of agent:

  12345 general  a1, the tone agent (1.5 kHz beeps)
  12399 quiet    a2, the tone agent, opted out of recording (skip_queues)
  12366 desk     a3: a real SIP desk phone (baresip, tests/support/sip_agent.py)
                 registered with the product's agent endpoint; it can put the caller on hold

QA rules are tuned for the tests: hold at most MAX_HOLD s; the greeting
phrases include a Korean one (the only speech model here is Korean). The
notice prompt is built by the product's prompt builder from
`recordings.notice_prompt` and installed like every prompt.
"""
from __future__ import annotations

from pathlib import Path

from ivr.prompts import MANIFEST
from ivr.prompts.build import build, install
from ivr.prompts.manifest import prompts_for
from recordings.dialplan import NOTICE_PROMPT
from transfer.dialplan import render_agent_auth
from tests.recordings.lab import RecLab

MAX_HOLD = 2.0
DESK = "a3"
DESK_PASSWORD = "pw-desk-a3-7q"

CONFIG = """
hotline: {{name: 测试市12345政务服务便民热线, city: 测试市, timezone: Asia/Shanghai}}
lines:
  - {{id: quiet-12399, name: 不录音热线, numbers: ["12399"], department: 测试局, mode: dual_number,
     effective: 2026-01-01, seats: pooled, queue: quiet}}
  - {{id: desk-12366, name: 话机热线, numbers: ["12366"], department: 话机局, mode: dual_number,
     effective: 2026-01-01, seats: pooled, queue: desk}}
queues:
  - {{id: general, name: 12345综合座席, strategy: rrmemory, ring_timeout: 10, members: [{general}]}}
  - {{id: quiet, name: 不录音座席, strategy: rrmemory, ring_timeout: 10, members: [{quiet}]}}
  - {{id: desk, name: 话机座席, strategy: rrmemory, ring_timeout: 10, members: ["PJSIP/{desk}"]}}
trunks:
  pstn: {{type: local, context: sim-outside}}
recordings:
  enabled: {enabled}
  folder: {folder}
  local_folder: {local_folder}
  retention_days: 30
  finish_wait: 5
  notice: true
  skip_queues: [quiet]
  qa: {{enabled: {qa}, greeting_words: [안녕하세요, 您好], max_hold: {max_hold}}}
"""


class HeardLab(RecLab):
    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.CONFIG = CONFIG.replace("{max_hold}", str(MAX_HOLD)).replace("{desk}", DESK)

    def test_files(self) -> dict[str, str]:
        auth, missing = render_agent_auth(self.config, {"HOTLINE_AGENT_PASSWORDS": f"{DESK}={DESK_PASSWORD}"})
        assert not missing, missing
        return super().test_files() | {"pjsip_agents_auth.conf": auth}

    def add_sounds(self) -> None:
        prompts = [p for p in prompts_for(self.config, MANIFEST) if p.id == NOTICE_PROMPT]
        assert prompts, "recordings.notice is on but the plan has no notice prompt"
        out = self.workdir / "prompts"
        build(prompts, out)
        install(out, self.inst.sounds)

    @property
    def notice_wav(self) -> Path:
        return self.inst.sounds / f"{NOTICE_PROMPT}.wav"

    @property
    def registrar(self) -> str:
        return f"127.0.0.1:{self.inst.sip_port}"
