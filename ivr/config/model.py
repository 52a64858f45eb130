"""The city's plan as typed objects: what `config.yaml` may contain.

Only shape and single-field rules live here; rules that look across the whole
file (a number on two lines, a reference to a missing queue) are in
`ivr.config.check`, so each problem can be reported with its own line.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import re
from enum import Enum
from typing import Literal

from pydantic import Field, field_validator

from ivr.config import safe
from ivr.config.base import NUMBER_RE, Member, Network, Strict, TrunkName, _number  # noqa: F401  (NUMBER_RE: public)
from ivr.config.callbacks_model import Callbacks
from ivr.config.supervision_model import Supervision
from ivr.config.fasttrack_model import Enterprise, Language
from ivr.config.recordings_model import Recordings
from ivr.config.seats_model import WebRtc
from ivr.config.speech_model import Speech
from ivr.config.tickets_model import Tickets

EMERGENCY_NUMBERS = ("110", "119", "120", "122")
DEFAULT_MERGED_PROMPT = "您好，欢迎您的来电，此号码热线功能已并入12345，业务咨询及投诉，请拨打12345热线"
DEFAULT_NOT_IN_SERVICE_PROMPT = "您拨打的号码已停止使用，业务咨询及投诉，请拨打12345热线"


class Mode(str, Enum):
    full_merge = "full_merge"      # 整体并入
    dual_number = "dual_number"    # 双号并行
    sub_center = "sub_center"      # 设分中心


class DuringTransition(str, Enum):
    forward = "forward"            # prompt, then 呼叫转移至12345
    hangup = "hangup"              # prompt, then end the call


class AfterTransition(str, Enum):
    not_in_service = "not_in_service"  # 取消号码: number-not-in-service prompt
    department = "department"          # local number goes back to its department


class Seats(str, Enum):
    pooled = "pooled"        # 座席并入: 12345 agents answer
    retained = "retained"    # 保留座席: the department keeps its own seats


class Hotline(Strict):
    name: str
    city: str = ""
    number: str = "12345"
    timezone: str = "Asia/Shanghai"
    # What a call to 12345 itself does: straight to an agent (取消语音导航) or a menu.
    entry: "Entry" = Field(default_factory=lambda: Entry())

    _v_number = field_validator("number")(lambda cls, v: _number(v))

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(v)
        except Exception as exc:  # ZoneInfoNotFoundError, ValueError
            raise ValueError(f"unknown timezone {v!r}") from exc
        return v


class MenuOption(Strict):
    label: str
    target: str  # a destination, see `Destination` syntax in docs/ARCHITECTURE.md


class Entry(Strict):
    menu: bool = False
    prompt: str = "您好，这里是12345政务服务便民热线。"
    menu_prompt: str = "市级业务请按1，省级业务请按2。"
    options: dict[str, MenuOption] = Field(default_factory=dict)
    timeout: int = Field(5, ge=1, le=60)
    default: str = "queue:general"   # no key pressed / menu off
    # Calls for 12345 agents first get a short "please state your matter" step,
    # transcribed live into the agent's pop and ticket (needs speech.enabled).
    speech_intake: bool = False


class Line(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    numbers: list[str] = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    department: str
    mode: Mode
    effective: dt.date | dt.datetime
    # Last day (inclusive) of the transition, or an exact end instant.
    transition_end: dt.date | dt.datetime | None = None
    levels: str = ""
    # full merge
    during: DuringTransition = DuringTransition.forward
    after: AfterTransition | None = None
    skip_key: str | None = "1"       # key that skips the prompt and connects
    prompt: str | None = None        # override the default merged prompt text
    # dual number
    seats: Seats = Seats.pooled
    queue: str | None = None         # expert seats / business zone (专家座席/业务专区)
    # sub-center
    sub_center: str | None = None
    # Where the department's own handling is: original destination before the
    # effective date, retained seats, and a local number after its transition.
    department_target: str | None = None
    notes: str = ""

    @field_validator("numbers", "aliases")
    @classmethod
    def _numbers(cls, v: list) -> list[str]:
        return [_number(n) for n in v]

    @field_validator("skip_key")
    @classmethod
    def _skip_key(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[0-9*#]", str(v)):
            raise ValueError("skip_key must be one DTMF key (0-9, * or #)")
        return None if v is None else str(v)


class Queue(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    strategy: Literal["ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "linear"] = "ringall"
    members: list[Member] = Field(default_factory=list)  # agent interfaces, e.g. PJSIP/agent1001
    ring_timeout: int = Field(15, ge=1, le=600)
    # Expert queue: after this many seconds unanswered, overflow to `overflow_to`.
    overflow_after: int | None = Field(None, ge=1, le=3600)
    overflow_to: str | None = None
    # seats hook: 话后处理 (after-call work): seconds after a call during which the agent is not offered one.
    wrapup: int = Field(0, ge=0, le=600)


class SubCenter(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    trunk: str                 # name of a trunk in `trunks`
    numbers: list[str] = Field(min_length=1)
    answer_timeout: int = Field(30, ge=1, le=300)

    _v_numbers = field_validator("numbers")(lambda cls, v: [_number(n) for n in v])


class Trunk(Strict):
    # pjsip: a PJSIP endpoint (production gateway, sub-center trunk);
    # local: a context of this Asterisk (the embedded demo's simulated outside world).
    type: Literal["pjsip", "local"] = "pjsip"
    endpoint: str | None = None
    context: str | None = None
    host: str | None = None    # for generated pjsip trunks: "127.0.0.1:5070"
    # Source addresses (IP or CIDR) whose calls this trunk accepts into the plan
    # (a PJSIP identify section). Empty: the trunk is outbound only.
    match: list[Network] = Field(default_factory=list)

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        return safe.check_name(v, "endpoint")

    @field_validator("context")
    @classmethod
    def _context(cls, v: str | None) -> str | None:
        return safe.check_name(v, "context")

    @field_validator("host")
    @classmethod
    def _host(cls, v: str | None) -> str | None:
        if v is not None and (reason := safe.host_error(v)):
            raise ValueError(reason)
        return v


class LinkageTarget(Strict):
    number: str
    name: str
    trunk: str

    _v_number = field_validator("number")(lambda cls, v: _number(v))


class Emergency(Strict):
    # 110/119/120/122 are never merged: dialed directly they pass straight through.
    trunk: str = "pstn"
    numbers: dict[str, str] = Field(
        default_factory=lambda: {"110": "公安报警", "119": "消防火警", "120": "医疗急救", "122": "交通事故"}
    )


class Ami(Strict):
    host: str = "127.0.0.1"
    port: int = Field(5038, ge=1, le=65535)
    username: str = "hotline"
    secret: str = Field("", repr=False)  # overridden by HOTLINE_AMI_SECRET

    @field_validator("username")
    @classmethod
    def _username(cls, v: str) -> str:
        return safe.check_name(v, "username")


class Asterisk(Strict):
    embedded: bool = True
    root: str = "/var/lib/hotline/asterisk-root"
    instance: str = "center"
    sip_port: int = Field(5060, ge=1, le=65535)
    ami: Ami = Field(default_factory=Ami)
    sounds_dir: str = "hotline"  # where prompts live, relative to Asterisk's sounds
    # A caller leg that sends no RTP for this long (seconds; on hold: rtp_timeout_hold)
    # is hung up, so a vanished caller leaves the queue. 0: never.
    rtp_timeout: int = Field(30, ge=0, le=3600)
    rtp_timeout_hold: int = Field(300, ge=0, le=86400)

    @field_validator("instance")
    @classmethod
    def _instance(cls, v: str) -> str:
        return safe.check_name(v, "instance")

    @field_validator("sounds_dir")
    @classmethod
    def _sounds_dir(cls, v: str) -> str:
        # becomes part of HOTLINE_PROMPT, i.e. Playback(<sounds_dir>/<prompt>): no ',', '&', '(' ...
        if not safe.SOUNDS_RE.match(v) or ".." in v:
            raise ValueError(f"sounds_dir {v!r} may use only letters, digits, '/', '.', '-' and '_'")
        return v


class FastAgi(Strict):
    host: str = "127.0.0.1"
    port: int = Field(4573, ge=0, le=65535)  # 0: any free port (tests)
    header_timeout: float = Field(5.0, gt=0)
    header_max_bytes: int = Field(64 * 1024, ge=1024)
    command_timeout: float = Field(10.0, gt=0)
    # Serve FastAGI from a worker process of its own (ivr.agi.worker), so calls
    # never wait behind AMI events and database writes; false: in the server's loop.
    process: bool = True
    # Added to the server's niceness for that worker: on a busy machine its few
    # CPU-milliseconds per call come first (needs root or CAP_SYS_NICE to go below 0).
    nice: int = Field(-10, ge=-20, le=19)
    # Peers allowed on the FastAGI and live-transcription ports (addresses or CIDRs),
    # checked on accept before anything is read (ivr.agi.peers).
    allow: list[Network] = Field(default_factory=lambda: ["127.0.0.0/8", "::1"], min_length=1)

    @field_validator("allow")
    @classmethod
    def _v_allow(cls, v: list[str]) -> list[str]:
        return [str(ipaddress.ip_network(a.strip(), strict=False)) for a in v]  # as the allow-list reads them


class Web(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)  # 0: any free port (tests)
    # token -> agent id ("supervisor" role sees all calls). Overridable by env.
    tokens: dict[str, str] = Field(default_factory=dict, repr=False)
    supervisors: list[str] = Field(default_factory=list)
    # HTTPS/WSS for agents on a LAN (docs/security.md, "Web"); both paths or neither.
    tls: WebTls | None = None
    # Extra page origins allowed to open /ws besides the server's own (https://host:port).
    origins: list[str] = Field(default_factory=list)
    # agent id -> queue ids the agent may join from the console; "*" applies to every agent.
    agent_queues: dict[str, list[str]] = Field(default_factory=lambda: {"*": ["general"]})

    @field_validator("tokens")
    @classmethod
    def _hashed_tokens(cls, tokens: dict[str, str]) -> dict[str, str]:
        for token in tokens:
            if token.startswith("sha256:") and not re.fullmatch(r"sha256:[0-9a-fA-F]{64}", token):
                raise ValueError("a hashed token is sha256:<64 hex digits>")
        return tokens


class WebTls(Strict):
    cert: str  # PEM certificate (chain) file
    key: str   # PEM private key file (keep it 0600)


class Database(Strict):
    url: str = Field("sqlite:////var/lib/hotline/hotline.db", repr=False)  # may hold a password


class Config(Strict):
    hotline: Hotline
    lines: list[Line] = Field(default_factory=list)
    queues: list[Queue] = Field(default_factory=list)
    sub_centers: list[SubCenter] = Field(default_factory=list)
    trunks: dict[TrunkName, Trunk] = Field(default_factory=dict)
    emergency: Emergency = Field(default_factory=Emergency)
    utilities: list[LinkageTarget] = Field(default_factory=list)  # water, power, gas, heating
    provincial: LinkageTarget | None = None                       # provincial 12345
    asterisk: Asterisk = Field(default_factory=Asterisk)
    fastagi: FastAgi = Field(default_factory=FastAgi)
    web: Web = Field(default_factory=Web)
    database: Database = Field(default_factory=Database)
    webrtc: WebRtc = Field(default_factory=WebRtc)  # seats hook: browser seats
    speech: Speech = Field(default_factory=Speech)
    tickets: Tickets = Field(default_factory=Tickets)
    callbacks: Callbacks = Field(default_factory=Callbacks)
    supervision: Supervision = Field(default_factory=Supervision)  # supervision/ plugin
    enterprise: Enterprise = Field(default_factory=Enterprise)  # 一企来 fast track
    languages: list[Language] = Field(default_factory=list)     # 外籍人士服务热线 seats
    recordings: Recordings = Field(default_factory=Recordings)  # recordings/: recording, retention, 质检

    def line(self, line_id: str) -> Line | None:
        return next((ln for ln in self.lines if ln.id == line_id), None)

    def queue(self, queue_id: str) -> Queue | None:
        return next((q for q in self.queues if q.id == queue_id), None)

    def sub_center(self, sc_id: str) -> SubCenter | None:
        return next((s for s in self.sub_centers if s.id == sc_id), None)


Hotline.model_rebuild()
Web.model_rebuild()
