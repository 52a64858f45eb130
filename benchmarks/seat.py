"""Browser seats under load: ring+pop latency and answer → two-way audio, with 200+ registered seats.

    .venv/bin/python benchmarks/seat.py [--calls 20] [--sims 200] [--seconds 300]

One embedded Asterisk (free ports) with two browser seats (agent1001, agent1002:
real headless Chromium, fake microphone playing 1000 Hz) in hotline-general and
`--sims` simulated seats registered by one sipp process (REGISTER with digest
auth, Expires 120, one contact each, re-registered every ~60 s for the whole run:
a missed re-registration expires the contact; they are not queue members: they
are the registrar load next to the browsers). The web side is the real app with the
real AMI call tracker (the pop) and the seats plugin, in its own thread.

Per call (sequential; a caller playing 700 Hz with TALK_DETECT on what it hears):
  offer    AMI AgentCalled for a browser seat, as received (the queue offers the call)
  ring+pop the page shows the ring banner AND the pop (#call with the caller), page clock
  answer   the benchmark clicks 接听 (wall clock before the click)
  audio    both: the page's AnalyserNode hears 700 Hz (page clock) and Asterisk
           raises ChannelTalkingStart on the caller's channel (the agent's 1000 Hz
           reached the caller); AMI receipt time
Browser and benchmark share the machine's wall clock (Date.now() / time.time()).
Calls go on until `--calls` are done and at least `--seconds` have passed, so a
long run checks that no simulated registration is lost (`pjsip show contacts`
at the start and the end). Targets: ring+pop p99 < 300 ms, answer → audio p99 < 1 s.

Last line: one JSON object with the figures, the targets and "pass".
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])

from aiohttp import web  # noqa: E402

from ivr.ami.client import AmiClient  # noqa: E402
from ivr.calls.tracker import CallTracker  # noqa: E402
from ivr.config.loader import load_config  # noqa: E402
from ivr.config.model import Config  # noqa: E402
from ivr.dialplan.build import instance_files  # noqa: E402
from ivr.seats import plugin as seats_plugin  # noqa: E402
from ivr.seats.asterisk import render_http  # noqa: E402
from ivr.storage.store import Store  # noqa: E402
from ivr.web.app import create_app  # noqa: E402
from ivr.web.auth import make_runner  # noqa: E402
from ivr.web.hub import Hub  # noqa: E402
from tests.support.asterisk_harness import new_instance  # noqa: E402
from tests.support.measure import free_port, load_average, quantile  # noqa: E402
from tests.support.web_support import TOKEN, TOKENS, services  # noqa: E402
from tests.web.test_console_browser import FLAGS, chromium  # noqa: E402
from transfer import http as transfer_http  # noqa: E402
from transfer.dialplan import render_agent_auth  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SEATS = ["agent1001", "agent1002"]
PASSWORDS = {a: f"bench-{a}-pw-0123456789" for a in SEATS}
TARGET_RING_P99_MS, TARGET_AUDIO_P99_MS = 300.0, 1000.0
CONTEXTS = """
[bench-queue]
exten => s,1,Set(CALLERID(all)="市民" <13912345678>)
 same => n,Queue(hotline-general,,,,60)
 same => n,Hangup()

[bench-caller]
; the caller: speaks 700 Hz; TALK_DETECT on what it hears (the agent's voice) -> ChannelTalkingStart
exten => s,1,Set(TALK_DETECT(set)=200,64)
 same => n,Playtones(700)
 same => n,Wait(60)
 same => n,Hangup()
"""
REGISTER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="register-seats">
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@[remote_ip]>;tag=[pid]reg[call_number]
To: <sip:[field0]@[remote_ip]>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:[field0]@[local_ip]:[local_port]>
Max-Forwards: 70
Expires: 120
Content-Length: 0

]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@[remote_ip]>;tag=[pid]reg[call_number]
To: <sip:[field0]@[remote_ip]>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:[field0]@[local_ip]:[local_port]>
[field1]
Max-Forwards: 70
Expires: 120
Content-Length: 0

]]></send>
  <recv response="200"/>
  <pause milliseconds="60000"/>
</scenario>
"""
# The page notes when it first shows the ring and the pop (page clock), and when it first hears 700 Hz.
WATCH = """
window.__bench = {ring: null, pop: null, heard: null};
const b = window.__bench;
clearInterval(window.__benchTimer);
window.__benchTimer = setInterval(() => {
  const now = Date.now();
  if (!b.ring && !document.getElementById("phone-ring").hidden) b.ring = now;
  if (!b.pop && !document.getElementById("call").hidden && document.getElementById("pop-caller").textContent.trim()) b.pop = now;
  if (b.ring && !b.heard) {
    const on = window.hotlinePhone.tonePower(700), off = window.hotlinePhone.tonePower(1300);
    if (on !== null && on > -70 && on - off > 20) b.heard = now;
  }
}, 5);
"""


def bench_config(inst) -> Config:
    data = load_config(REPO / "config.yaml").model_dump()
    for q in data["queues"]:
        if q["id"] == "general":
            q["members"] = [f"PJSIP/{a}" for a in SEATS]
            q["wrapup"] = 0
    data["webrtc"] |= {"agents": SEATS, "ws_url": f"ws://127.0.0.1:{inst.http_port}/ws"}
    data["web"] |= {"tokens": TOKENS, "supervisors": []}
    return Config.model_validate(data)


def sims_conf(n: int) -> tuple[str, str]:
    """pjsip sections for the simulated seats, and sipp's injection file (user;[authentication …])."""
    out, csv = ["; simulated seats (sipp)\n"], ["SEQUENTIAL\n"]
    for i in range(n):
        sid, pw = f"sim{i:04d}", f"simpw{i:04d}x"
        out.append(f"\n[{sid}]\ntype = aor\nmax_contacts = 1\nremove_existing = yes\n"
                   f"\n[{sid}-auth]\ntype = auth\nauth_type = userpass\nusername = {sid}\npassword = {pw}\n"
                   f"\n[{sid}]\ntype = endpoint\ncontext = hotline-agent\naors = {sid}\nauth = {sid}-auth\n"
                   "disallow = all\nallow = ulaw\n")
        csv.append(f"{sid};[authentication username={sid} password={pw}]\n")  # sipp reads the keyword from here
    return "".join(out), "".join(csv)


class Server:
    """The web app + AMI tracker + seats plugin in their own loop (WebDriver calls block)."""

    def __init__(self, config: Config, inst, db: Path) -> None:
        self.config, self.inst, self.db = config, inst, db
        self.loop, self.base = asyncio.new_event_loop(), Future()
        self.offers: list[tuple[float, str]] = []      # (time, agent) of AgentCalled
        self.talking: list[float] = []                  # ChannelTalkingStart on the caller
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        self.stop = asyncio.Event()
        i = self.inst
        ami = AmiClient("127.0.0.1", i.ami_port, i.ami_user, i.ami_secret)
        ami.on("AgentCalled", lambda m: self.offers.append((time.time(), str(m.get("MemberName") or ""))))
        ami.on("ChannelTalkingStart", lambda m: self.talking.append(time.time())
               if str(m.get("Channel", "")).startswith("Local/s@bench-queue") else None)
        store = Store.open(f"sqlite:///{self.db}")
        svc = services(ami=ami, store=store, hub=Hub())
        tracker = CallTracker.from_config(self.config, store, svc.hub.publish, model=svc.hub.calls)
        tracker.attach(ami)
        await tracker.start()
        await ami.connect()
        assert await ami.wait_connected(10), "AMI did not connect"
        app = create_app(self.config, services=svc)
        transfer_http.setup(app)  # /api/options: the console's login
        async with seats_plugin.load(svc, app):
            runner = make_runner(app, shutdown_timeout=2.0)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            self.base.set_result(f"http://127.0.0.1:{runner.addresses[0][1]}")
            await self.stop.wait()
            await runner.cleanup()
        await tracker.stop()
        await ami.close()
        store.close()

    def __enter__(self) -> str:
        self.thread.start()
        return self.base.result(20)

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(15)


def contacts(inst, prefix: str) -> int:
    return sum(1 for ln in inst.rx("pjsip show contacts").splitlines() if ln.strip().startswith(f"Contact:  {prefix}"))


def wait(pred, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError(what)


def pct(values: list[float], p: float) -> float | None:
    v = quantile(values, p / 100)
    return round(v, 1) if v is not None else None


def run(args, tmp: Path) -> dict:
    inst = new_instance("seatbench")
    inst.http_port = free_port()
    config = bench_config(inst)
    auth, _ = render_agent_auth(config, env={"HOTLINE_AGENT_PASSWORDS": ",".join(f"{a}={p}" for a, p in PASSWORDS.items())})
    sims, csv = sims_conf(args.sims)
    (tmp / "users.csv").write_text(csv)
    (tmp / "register.xml").write_text(REGISTER)
    (tmp / "tone.wav").unlink(missing_ok=True)
    subprocess.run(["sox", "-n", "-r", "48000", "-c", "1", "-b", "16", str(tmp / "tone.wav"), "synth",
                    str(args.seconds + 600), "sine", "1000", "vol", "0.5"], check=True)
    inst.write_config(instance_files(config, "center") | {
        "http_hotline.conf": render_http(config, port=inst.http_port), "pjsip_agents_auth.conf": auth,
        "pjsip_sims.conf": sims, "extensions_bench.conf": CONTEXTS})
    os.environ["HOTLINE_AGENT_PASSWORDS"] = ",".join(f"{a}={p}" for a, p in PASSWORDS.items())
    inst.start()
    sipp = None
    ring_ms, audio_ms, failures = [], [], []
    try:
        sipp = subprocess.Popen(["sipp", f"127.0.0.1:{inst.sip_port}", "-sf", str(tmp / "register.xml"),
                                 "-inf", str(tmp / "users.csv"), "-r", "50", "-l", str(args.sims),
                                 "-i", "127.0.0.1", "-p", str(free_port(2)), "-nostdin", "-trace_err", "-trace_msg"],
                                stdout=(tmp / "sipp.log").open("wb"), stderr=subprocess.STDOUT, cwd=tmp)
        try:
            registered_start = wait(lambda: (n := contacts(inst, "sim")) >= args.sims and n, 90, "sims never all registered")
        except TimeoutError:
            logs = "".join(p.read_text(errors="replace")[-2500:] for p in sorted(tmp.glob("*.log")))
            sys.stderr.write(logs + inst.rx("pjsip show endpoint sim0000")[-600:])
            raise
        media = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 f"--use-file-for-fake-audio-capture={tmp / 'tone.wav'}", "--allow-loopback-in-peer-connection",
                 "--autoplay-policy=no-user-gesture-required"]
        server = Server(config, inst, tmp / "bench.db")
        with server as base, \
                chromium(tmp / "p1", FLAGS + media) as d1, chromium(tmp / "p2", FLAGS + media) as d2:
            drivers = dict(zip(SEATS, (d1, d2)))
            for agent, d in drivers.items():
                d.get(f"{base}/console/?token={TOKEN[agent]}")
            for agent, d in drivers.items():
                try:
                    wait(lambda d=d: "示闲" in d.find_element("id", "phone-agent-state").text, 40, f"{agent} not ready")
                except TimeoutError:
                    raise TimeoutError(f"{agent} not ready: {d.execute_script('return window.hotlinePhone.state()')}")
            started, n = time.monotonic(), 0
            while n < args.calls or time.monotonic() - started < args.seconds:
                n += 1
                try:
                    ring, audio = one_call(inst, drivers, server)
                    ring_ms.append(ring)
                    audio_ms.append(audio)
                except (TimeoutError, KeyError) as exc:
                    failures.append(f"call {n}: {exc}")
                inst.rx("channel request hangup all")
                wait(lambda: "0 active channels" in inst.rx("core show channels count"), 15, "channels left")
                time.sleep(0.5)
        registered_end = contacts(inst, "sim")
    finally:
        if sipp is not None:
            sipp.kill()
            sipp.wait(10)
        inst.remove()
    ok = (not failures and ring_ms and audio_ms and pct(ring_ms, 99) < TARGET_RING_P99_MS
          and pct(audio_ms, 99) < TARGET_AUDIO_P99_MS and registered_end >= registered_start)
    return {"calls": len(ring_ms), "failures": failures[:5], "sims_registered_start": registered_start,
            "sims_registered_end": registered_end, "ring_pop_ms": {"p50": pct(ring_ms, 50), "p99": pct(ring_ms, 99)},
            "answer_audio_ms": {"p50": pct(audio_ms, 50), "p99": pct(audio_ms, 99)},
            "targets": {"ring_pop_p99_ms": TARGET_RING_P99_MS, "answer_audio_p99_ms": TARGET_AUDIO_P99_MS},
            "load_avg": os.getloadavg(), "pass": bool(ok)}


def one_call(inst, drivers: dict, srv: Server) -> tuple[float, float]:
    """(offer → ring+pop ms, answer click → two-way audio ms) of one call."""
    for d in drivers.values():
        d.execute_script(WATCH)
    before, talk_before = len(srv.offers), len(srv.talking)
    inst.rx("channel originate Local/s@bench-queue/n extension s@bench-caller")
    offered_at, agent = wait(lambda: srv.offers[before] if len(srv.offers) > before else None, 20, "no AgentCalled")
    d = drivers[agent]
    marks = wait(lambda: (m := d.execute_script("return window.__bench")) and m["ring"] and m["pop"] and m, 10,
                 f"{agent}: no ring+pop")
    ring = max(marks["ring"], marks["pop"]) - offered_at * 1000
    clicked = time.time() * 1000
    d.find_element("id", "phone-answer").click()
    heard = wait(lambda: d.execute_script("return window.__bench.heard"), 10, f"{agent} never heard the caller")
    talked = wait(lambda: srv.talking[talk_before] if len(srv.talking) > talk_before else None, 10,
                  "the caller never heard the agent")
    audio = max(heard, talked * 1000) - clicked
    d.find_element("id", "phone-hangup").click()
    return ring, audio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--sims", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=300, help="run at least this long (registrations kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seatbench-") as tmp:
        load_before = load_average()
        result = {**run(args, Path(tmp)), "load_average_before": round(load_before, 2)}
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
