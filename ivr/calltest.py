"""`hotline call`: a test call into the running Asterisk, narrated as it happens.

The call is an AMI Originate of `Local/<number>@hotline-inbound`: the `;2`
half enters the plan exactly like a call from outside, the `;1` half is the
caller and runs `hotline-testcall` (dialplans/center/extensions_sim.conf),
which records what it hears, can press keys and speak a WAV.

Only this call's events are followed: the VarSet of HOTLINE_TEST_TAG on the
caller's channel gives its Linkedid, which every channel of the call shares
(the plan side, queue legs, outside numbers). Each step becomes one line:
the plan's decision, the prompts heard (text from the prompt build index),
queues, forwards, answers, the end. The caller's number is always masked.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ivr.ami.client import AmiClient, AmiError
from ivr.config.model import Config
from ivr.dialplan import variables as V
from ivr.privacy import mask_number
from ivr.prompts import BUILD_DIR
from ivr.waits import within

MARGIN = 15            # seconds beyond --hold (and the spoken WAV) before giving up on the call
CONNECT_TIMEOUT = 5.0
MAX_BUFFER = 5000      # events kept while this call's Linkedid is not known yet
PLAYBACK_APPS = {"Playback", "ControlPlayback", "Background", "BackGround"}
# Asterisk's OriginateResponse Reason codes
ORIGINATE_REASONS = {"0": "no such extension or channel", "1": "no answer", "3": "ringing, not answered",
                     "5": "busy", "8": "congestion"}
# contexts whose Hangup() is the plan's own decision to end the call
PLAN_HANGUPS = {"hotline-act-prompt_then_hangup", "hotline-act-not_in_service"}
NUMBER = re.compile(r"^[0-9*#]{1,32}$")
CALLER = re.compile(r"^\+?[0-9]{3,20}$")


@dataclass
class CallRequest:
    number: str
    caller: str = "13800138000"
    say: Path | None = None
    dtmf: str = ""
    hold: int = 20


def prompt_texts(index: Path = BUILD_DIR / "index.json") -> dict[str, str]:
    """Prompt id -> its text, from the prompt build (empty if prompts were never built)."""
    try:
        return {pid: str(entry.get("text", "")) for pid, entry in json.loads(index.read_text("utf-8")).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _var(event: dict) -> tuple[str, str]:
    return str(event.get("Variable", "")).lstrip("_"), str(event.get("Value") or "")


@dataclass
class Narrator:
    """Turns the AMI events of one test call into the lines an operator reads."""
    config: Config
    tag: str
    action_id: str
    say_sound: str = ""
    say_name: str = ""
    out: Callable[[str], None] = print
    prompts: dict[str, str] = field(default_factory=prompt_texts)
    # what the events told so far
    linkedid: str = field(default="", init=False)
    caller_channel: str = field(default="", init=False)
    reached: bool = field(default=False, init=False)
    ended: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    started: float = field(default_factory=time.monotonic, init=False)
    _buffer: list[dict] = field(default_factory=list, init=False)
    _vars: dict[str, str] = field(default_factory=dict, init=False)
    _said: set[str] = field(default_factory=set, init=False)
    _in_queue: str = field(default="", init=False)

    def feed(self, event: dict) -> None:
        if self.ended.is_set():
            return
        if event.get("Event") == "OriginateResponse" and event.get("ActionID") == self.action_id:
            if event.get("Response") != "Success":
                reason = ORIGINATE_REASONS.get(str(event.get("Reason")), f"reason {event.get('Reason')}")
                if self.linkedid:  # it was placed: nobody answered within --hold, the caller gives up
                    self.say(f"caller gives up: {reason}")
                else:
                    self._end(f"call failed: Asterisk could not place it ({reason})")
            return
        if not self.linkedid:
            if event.get("Event") == "VarSet" and _var(event) == (V.TEST_TAG, self.tag):
                self.linkedid, self.caller_channel = event.get("Linkedid", ""), event.get("Channel", "")
                for old in self._buffer:
                    if old.get("Linkedid") == self.linkedid:
                        self._step(old)
                self._buffer.clear()
            elif len(self._buffer) < MAX_BUFFER:
                self._buffer.append(event)
            return
        mine = event.get("Linkedid") == self.linkedid
        if mine or (event.get("Event") == "UserEvent" and event.get("Tag") == self.tag):
            self._step(event)

    # -- one event of this call -> at most a line or two
    def _step(self, e: dict) -> None:
        kind = e.get("Event")
        if kind == "VarSet":
            self._variable(*_var(e))
        elif kind == "Newexten":
            self._app(e)
        elif kind == "QueueCallerJoin":
            self._in_queue = e.get("Queue", "")
            self.reached = True
            self.say(f"waiting in queue {self._in_queue} (position {e.get('Position', '?')})")
        elif kind == "QueueCallerLeave" and e.get("Queue") == self._in_queue:
            self.say(f"left queue {self._in_queue}")
            self._in_queue = ""
        elif kind == "DialBegin" and self._in_queue and e.get("DestChannel"):
            self.say(f"ringing agent {_interface(e['DestChannel'])}")
        elif kind == "DialEnd" and self.caller_channel not in (e.get("Channel"), e.get("DestChannel")):
            status = e.get("DialStatus", "")
            if status == "ANSWER":
                self.reached = True
            self.say(f"{_interface(e.get('DestChannel', ''))} answered" if status == "ANSWER"
                     else f"{_interface(e.get('DestChannel', ''))}: {status.lower() or 'no answer'}")
        elif kind == "AgentConnect":
            self.reached = True
            self.say(f"answered by agent {e.get('MemberName') or e.get('Interface')} "
                     f"(queue {e.get('Queue')}, waited {e.get('HoldTime', '?')} s)")
        elif kind == "UserEvent":
            self._user_event(e)
        elif kind == "Hangup" and e.get("Channel") == self.caller_channel:
            cause = e.get("Cause-txt") or f"cause {e.get('Cause')}"
            self._end(f"call ended ({cause}) after {time.monotonic() - self.started:.1f} s")

    def _variable(self, name: str, value: str) -> None:
        if not name.startswith(V.PREFIX) or name.startswith(V.TEST_PREFIX):
            return
        first = name not in self._vars
        self._vars[name] = value
        if name == V.ACTION and value and "plan" not in self._said:
            self._said.add("plan")
            self.say(self._plan_line())
        elif name == V.FALLBACK and value == "1" and first:
            self.say("plan: no usable answer from the hotline server (FastAGI): fail-safe -> queue:general")
        elif name == V.PROMPT_SKIPPED and value == "1":
            self.say(f"caller skipped the prompt (key {self._vars.get(V.SKIP_KEY) or '?'})")
        elif name == V.OVERFLOWED and first:
            self.say(f"no expert free in hotline-{value}: overflow")
        elif name == V.FORWARD_FAILED and first:
            self.say(f"forward failed ({value}): 12345 takes the call")
        elif name == V.MENU and first:
            self.say(f"caller chose menu option {value}")

    def _plan_line(self) -> str:
        v = self._vars
        line_id = v.get(V.LINE, "")
        line = next((ln for ln in self.config.lines if ln.id == line_id), None)
        name = line.name if line else (self.config.hotline.name if v.get(V.MODE) == "main" else "")
        dept = v.get(V.DEPARTMENT, "")
        who = " ".join(p for p in (name, f"({dept})" if dept else "") if p)
        state = "/".join(p for p in (v.get(V.MODE, ""), v.get(V.PHASE, "")) if p)
        parts = [f"plan: {v.get(V.DIALED, '?')}", who, state, "->", v.get(V.ACTION, ""),
                 v.get(V.TARGET, "")]
        text = " ".join(p for p in parts if p)
        return text + (f" [ticket {v[V.TICKET]}]" if v.get(V.TICKET) else "")

    def _app(self, e: dict) -> None:
        app, data = e.get("Application", ""), str(e.get("AppData") or "")
        if app in PLAYBACK_APPS:
            for sound in data.split(",")[0].split("&"):
                if self.say_sound and sound == self.say_sound:
                    self.say(f"caller says: {self.say_name}")
                elif sound:
                    self.say(f"caller hears: {self._describe(sound)}")
        elif app == "SendDTMF" and e.get("Channel") == self.caller_channel:
            self.say(f"caller presses {data.split(',')[0]}")
        elif app == "Dial":
            self.say(f"forwarded to {data.split(',')[0]}")
        elif app == "Hangup" and e.get("Context") in PLAN_HANGUPS:
            self.reached = True  # the plan itself ends the call (prompt_then_hangup, not_in_service)
            self.say("the plan ends the call")

    def _describe(self, sound: str) -> str:
        prefix = self.config.asterisk.sounds_dir.strip("/") + "/"
        pid = sound[len(prefix):] if sound.startswith(prefix) else ""
        text = self.prompts.get(pid, "")
        return f"「{text}」 ({sound})" if text else f"sound {sound}"

    def _user_event(self, e: dict) -> None:
        name = e.get("UserEvent")
        if name == "SimOutside":
            self.reached = True
            self.say(f"reached outside number {e.get('Number')} (simulated outside line)")
        elif name == "SimAgent":
            self.reached = True
            self.say(f"answered by agent {e.get('Agent')} (queue {e.get('Queue')})")

    def say(self, line: str) -> None:
        self.out(line)

    def _end(self, line: str) -> None:
        self.say(line)
        self.ended.set()


def _interface(channel: str) -> str:
    """PJSIP/agent1001-0000002a -> PJSIP/agent1001; Local/x@ctx-00000001;1 -> Local/x@ctx."""
    return re.sub(r"-[0-9a-f]{8}(;\d)?$", "", channel)


def prepare_say(source: Path, sounds: Path, sounds_prefix: str, tag: str) -> tuple[Path, str, float]:
    """Convert `source` to 8 kHz mono 16-bit into Asterisk's sounds; (file, sound name, seconds)."""
    from pydub import AudioSegment  # pydub pulls in ffmpeg probing: only when --say is used

    audio = AudioSegment.from_file(source).set_channels(1).set_frame_rate(8000).set_sample_width(2)
    name = f"testcall-say-{tag}"
    sounds.mkdir(parents=True, exist_ok=True)
    path = sounds / f"{name}.wav"
    audio.export(path, format="wav")
    return path, f"{sounds_prefix.strip('/')}/{name}", len(audio) / 1000


async def place_call(config: Config, request: CallRequest, *, ami_secret: str, sounds: Path | None = None,
                     out: Callable[[str], None] = print, err: Callable[[str], None] = print) -> int:
    """Place the call and narrate it; 0 if it reached a destination, 1 if not, 2 bad input, 3 no AMI."""
    number = request.number.replace("-", "")
    if not NUMBER.match(number):
        err(f"hotline call: not a number to dial: {request.number!r}")
        return 2
    if not CALLER.match(request.caller):
        err(f"hotline call: --from must be a phone number (digits, optional +): {mask_number(request.caller)!r}")
        return 2
    if request.dtmf and not re.fullmatch(r"[0-9*#wW]{1,32}", request.dtmf):
        err(f"hotline call: --dtmf takes keys 0-9 * # (w = half-second pause): {request.dtmf!r}")
        return 2
    tag = uuid.uuid4().hex[:10]
    say_file, say_sound, say_seconds = None, "", 0.0
    if request.say is not None:
        if sounds is None:
            err("hotline call: --say needs the embedded Asterisk's sounds folder (asterisk.embedded: true)")
            return 2
        try:
            say_file, say_sound, say_seconds = prepare_say(request.say, sounds, config.asterisk.sounds_dir, tag)
        except Exception as exc:  # pydub/ffmpeg raise many kinds for an unreadable file
            err(f"hotline call: cannot read --say {request.say}: {exc}")
            return 2
    a = config.asterisk.ami
    client = AmiClient(a.host, a.port, a.username, ami_secret, connect_timeout=CONNECT_TIMEOUT)
    action_id = f"hotline-call-{tag}"
    narrator = Narrator(config, tag, action_id, say_sound, request.say.name if request.say else "", out)
    client.on("*", lambda event: narrator.feed(dict(event)))
    try:
        if not await client.connect(timeout=CONNECT_TIMEOUT):
            err(f"hotline call: cannot log in to Asterisk AMI at {a.host}:{a.port} as {a.username!r} within "
                f"{CONNECT_TIMEOUT:g} s. Is Asterisk running (`hotline up` / `hotline asterisk start`)? "
                "Check asterisk.ami in the config and the AMI secret.")
            return 3
        out(f"calling {number} from {mask_number(request.caller)} (test call {tag})")
        variables = {V.TEST_TAG: tag, V.inherited(V.TEST_TAG): tag, V.TEST_HOLD: str(request.hold)}
        if request.dtmf:
            variables |= {V.TEST_DTMF: request.dtmf, V.TEST_DTMF_AFTER: "1"}
        if say_sound:
            variables[V.TEST_SAY] = say_sound
        try:
            response = await client.action({
                "Action": "Originate", "ActionID": action_id, "Channel": f"Local/{number}@hotline-inbound",
                "Context": "hotline-testcall", "Exten": "s", "Priority": "1", "Async": "true",
                # never answered (a queue rings without answering): give up after --hold
                "Timeout": str(request.hold * 1000), "CallerID": f'"hotline call" <{request.caller}>',
                "Variable": [f"{k}={v}" for k, v in variables.items()],
            })
        except AmiError as exc:
            err(f"hotline call: Asterisk refused the call: {exc}")
            return 1
        if not response.success:
            err(f"hotline call: Asterisk refused the call: {response.get('Message') or 'error'}")
            return 1
        limit = request.hold + say_seconds + MARGIN
        try:
            await within(narrator.ended.wait(), limit)
        except asyncio.TimeoutError:
            out(f"still up after {limit:.0f} s: hanging up")
            if narrator.caller_channel:
                try:
                    await client.action({"Action": "Hangup", "Channel": narrator.caller_channel})
                except AmiError:
                    pass  # gone meanwhile
        if not narrator.reached:
            err("hotline call: the call did not reach a destination")
        return 0 if narrator.reached else 1
    finally:
        await client.close()
        if say_file is not None:
            say_file.unlink(missing_ok=True)
