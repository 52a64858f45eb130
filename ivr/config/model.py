"""The city's plan as typed objects: what `config.yaml` may contain.

Only shape and single-field rules live here; rules that look across the whole
file (a number on two lines, a reference to a missing queue) are in
`ivr.config.check`, so each problem can be reported with its own line.
"""
from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from ivr.config import safe

# Digits, optionally "-ext" (88348666-1). Nothing else reaches a dialplan.
NUMBER_RE = re.compile(r"^\d{3,15}(-\d{1,6})?$")
EMERGENCY_NUMBERS = ("110", "119", "120", "122")
# A word a city adds to the speech lexicons (matched literally, never as a regex).
_WORD_RE = re.compile(r"^[\u3400-\u9fffA-Za-z0-9]{1,12}$")

DEFAULT_MERGED_PROMPT = "您好，欢迎您的来电，此号码热线功能已并入12345，业务咨询及投诉，请拨打12345热线"
DEFAULT_NOT_IN_SERVICE_PROMPT = "您拨打的号码已停止使用，业务咨询及投诉，请拨打12345热线"


def _words(words) -> None:
    for w in words:
        if not _WORD_RE.match(w):
            raise ValueError(f"{w!r} is not a word: 1-12 Chinese characters, letters or digits")


def _known(what: str, keys, known) -> None:
    for key in keys:
        if key not in known:
            raise ValueError(f"unknown {what} {key!r}; known: {', '.join(known)}")


class Strict(BaseModel):
    # Unknown keys are typos in a city's plan: reject them instead of ignoring.
    model_config = ConfigDict(extra="forbid")


def _number(value: str) -> str:
    value = str(value).strip()
    if not NUMBER_RE.match(value):
        raise ValueError(f"malformed number {value!r}: digits, optionally '-ext'")
    return value


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


def _reject(check):
    """A pydantic AfterValidator from one of `ivr.config.safe`'s *_error functions."""
    def run(value):
        if (reason := check(value)) is not None:
            raise ValueError(reason)
        return value
    return AfterValidator(run)


Member = Annotated[str, _reject(safe.member_error)]
TrunkName = Annotated[str, _reject(safe.trunk_name_error)]
Network = Annotated[str, _reject(safe.network_error)]


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


class WebRtc(Strict):
    """Browser seats (WebRTC over SIP-over-WebSocket); rendered by ivr/seats/asterisk.py."""
    # Agent ids (PJSIP queue members) whose phone is the browser: their endpoints get webrtc=yes.
    agents: list[str] = Field(default_factory=list)
    http_host: str = "127.0.0.1"  # Asterisk's built-in HTTP server carries /ws
    http_port: int = Field(8088, ge=1, le=65535)
    # WSS for production: Asterisk's TLS HTTP server with the city's certificate (0 = off).
    tls_port: int = Field(0, ge=0, le=65535)
    tls_cert: str = ""
    tls_key: str = ""
    # What the browser connects to; "" = ws://<http_host>:<http_port>/ws (wss:// when tls_port is set).
    ws_url: str = ""
    sip_domain: str = "127.0.0.1"
    # 示忙 reasons an agent picks from (sent to Asterisk's QueuePause as the reason).
    pause_reasons: list[str] = Field(default_factory=lambda: ["小休", "用餐", "培训", "会议"])

    @field_validator("agents")
    @classmethod
    def _agent_ids(cls, v: list[str]) -> list[str]:
        bad = [a for a in v if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", a)]
        if bad:
            raise ValueError(f"agent ids are letters, digits, _ and - only: {bad}")
        return v

    @field_validator("pause_reasons")
    @classmethod
    def _reasons(cls, v: list[str]) -> list[str]:
        bad = [r for r in v if not re.fullmatch(r"[^\x00-\x20;:,|\[\]]{1,16}", r)]
        if bad:  # they go into AMI: short, no spaces, control characters or separators
            raise ValueError(f"pause reasons are 1-16 characters without spaces or ;:,|[]: {bad}")
        return v

    @field_validator("http_host", "tls_cert", "tls_key", "ws_url", "sip_domain")
    @classmethod
    def _one_line(cls, v: str) -> str:
        # These go into http.conf / pjsip.conf and the page: no line breaks, no config syntax.
        if re.search(r"[\s;\[\]]", v):
            raise ValueError("no spaces, line breaks, ';' or brackets")
        return v


class Database(Strict):
    url: str = Field("sqlite:////var/lib/hotline/hotline.db", repr=False)  # may hold a password


class Speech(Strict):
    enabled: bool = False
    model: str = ""
    workers: int = Field(0, ge=0)  # 0 = one per core
    # Live transcription server (EAGI transcribe.py connects to it on 127.0.0.1).
    live_port: int = Field(4574, ge=1, le=65535)
    # Decoding may fall this far behind a call before the call is degraded (spooled).
    backlog_seconds: float = Field(3.0, gt=0, le=600)
    # Where degraded calls' audio waits for transcription after the call ("" = skip it).
    spool_dir: str = "/var/lib/hotline/speech-spool"
    # "Please state your matter" step before the queue (hotline.entry.speech_intake).
    intake_seconds: int = Field(8, ge=1, le=60)
    intake_prompt: str = "请在提示音后简要说明您要反映的问题，说完请稍候。"
    # Our own end of utterance after this much silence (0 = Vosk's own, 0.5-2 s); see docs/tickets.md.
    endpoint_seconds: float = Field(0.0, ge=0, le=2)
    # Ticket drafting: the city's own words (docs/tickets.md, "A city's own words").
    dialect: dict[str, str] = Field(default_factory=dict)                 # dialect word -> Mandarin
    fillers: list[str] = Field(default_factory=list)                      # said to fill a pause
    emergency_words: dict[str, list[str]] = Field(default_factory=dict)   # taxonomy group -> words
    topic_words: dict[str, dict[str, int]] = Field(default_factory=dict)  # department kind -> word -> weight

    @field_validator("dialect")
    @classmethod
    def _dialect(cls, v: dict[str, str]) -> dict[str, str]:
        _words([*v, *v.values()])
        return v

    @field_validator("fillers")
    @classmethod
    def _fillers(cls, v: list[str]) -> list[str]:
        _words(v)
        return v

    @field_validator("emergency_words")
    @classmethod
    def _emergency_words(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        from ivr.speech.emergency_lexicon import GROUPS  # plain data, imports nothing of ivr

        _known("group", v, GROUPS)
        _words([w for ws in v.values() for w in ws])
        return v

    @field_validator("topic_words")
    @classmethod
    def _topic_words(cls, v: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        from ivr.speech.lexicon import KIND_DEPARTMENTS  # plain data, imports nothing

        _known("kind", v, KIND_DEPARTMENTS)
        _words([w for ws in v.values() for w in ws])
        for w, weight in ((w, n) for ws in v.values() for w, n in ws.items()):
            if not 1 <= weight <= 5:
                raise ValueError(f"{w!r}: weight {weight} must be 1-5")
        return v


# -- callbacks (callbacks/ package; docs/callbacks.md) ------------------------------
_WINDOW_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
CALLBACK_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "makeup", "holiday")
CALLBACK_CAUSES = ("busy", "no_answer", "rejected", "unreachable", "congestion", "failed")
_DEFAULT_RETRY = {"busy": 600, "no_answer": 1800, "rejected": 7200, "unreachable": 3600, "congestion": 300, "failed": 900}


def _default_windows() -> dict[str, list[str]]:
    work = ["09:00-12:00", "14:00-20:00"]
    return {d: list(work) for d in ("mon", "tue", "wed", "thu", "fri", "makeup")} | {"sat": ["10:00-12:00"], "sun": [], "holiday": []}


class Callbacks(Strict):
    """Outbound calls (回访, callbacks): one engine, one trunk, windows, retries."""

    enabled: bool = False
    trunk: TrunkName = "pstn"                        # a name in `trunks`
    caller_id: str = "12345"
    channels: int = Field(30, ge=1, le=10000)        # channels the trunk carries in all
    reserve_inbound: int = Field(20, ge=0, le=10000)  # never used by callbacks
    max_attempts: int = Field(3, ge=1, le=10)
    ring_timeout: int = Field(30, ge=5, le=120)
    # seconds to wait before the next attempt, by the cause of the failed one
    retry_after: dict[str, int] = Field(default_factory=lambda: dict(_DEFAULT_RETRY))
    # per weekday, "makeup" (调休上班日) and "holiday": local "HH:MM-HH:MM" windows
    windows: dict[str, list[str]] = Field(default_factory=_default_windows)
    calendars: list[str] = Field(default_factory=lambda: ["cn-2026"])  # shipped data, callbacks/calendars/
    holidays: list[dt.date] = Field(default_factory=list)   # more days off
    workdays: list[dt.date] = Field(default_factory=list)   # more 调休 working days
    do_not_call: list[str] = Field(default_factory=list)
    poll_seconds: float = Field(2.0, gt=0, le=60)
    survey_prompt: str = "您好，这里是12345热线回访。对本次服务满意请按1，基本满意请按2，不满意请按3。"
    thanks_prompt: str = "感谢您的评价，再见。"
    # 漏接回拨: a caller who hung up after waiting `missed_after` s in a queue is
    # called back `missed_delay` s later (unless answered on a call of their own
    # meanwhile), when an agent of `missed_queue` is free.
    missed: bool = True
    missed_after: int = Field(10, ge=0, le=3600)
    missed_delay: int = Field(120, ge=0, le=86400)
    missed_queue: str = Field("general", pattern=r"^[a-z0-9][a-z0-9_-]*$")
    missed_prompt: str = "您好，这里是12345热线，您刚才的来电未能接通，现在为您回电，正在为您转接人工服务，请稍候。"
    # Finished tasks with a ticket are POSTed here (the work-order system), retried until accepted.
    webhook: str | None = Field(None, pattern=r"^https?://[^\s]+$")
    webhook_token: str = Field("", repr=False)   # sent as "Authorization: Bearer <token>"

    _v_caller_id = field_validator("caller_id")(lambda cls, v: _number(v))
    _v_dnc = field_validator("do_not_call")(lambda cls, v: [_number(n) for n in v])

    @field_validator("retry_after")
    @classmethod
    def _causes(cls, v: dict[str, int]) -> dict[str, int]:
        for cause, seconds in v.items():
            if cause not in CALLBACK_CAUSES:
                raise ValueError(f"unknown cause {cause!r}: one of {', '.join(CALLBACK_CAUSES)}")
            if not 0 <= int(seconds) <= 7 * 86400:
                raise ValueError(f"{cause}: retry delay must be 0..604800 seconds")
        return _DEFAULT_RETRY | v

    @field_validator("windows")
    @classmethod
    def _windows(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, spans in v.items():
            if day not in CALLBACK_DAYS:
                raise ValueError(f"unknown day {day!r}: one of {', '.join(CALLBACK_DAYS)}")
            for span in spans:
                m = _WINDOW_RE.match(str(span))
                if not m or (m[3], m[4]) <= (m[1], m[2]) or (m[3] == "24" and m[4] != "00"):
                    raise ValueError(f"{day}: window {span!r} must be HH:MM-HH:MM with start before end")
        return _default_windows() | v

    @model_validator(mode="after")
    def _room_for_inbound(self) -> "Callbacks":
        if self.reserve_inbound >= self.channels:
            raise ValueError(f"reserve_inbound ({self.reserve_inbound}) must be below channels ({self.channels}): "
                             "otherwise no callback can ever be placed")
        return self


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
    callbacks: Callbacks = Field(default_factory=Callbacks)

    def line(self, line_id: str) -> Line | None:
        return next((ln for ln in self.lines if ln.id == line_id), None)

    def queue(self, queue_id: str) -> Queue | None:
        return next((q for q in self.queues if q.id == queue_id), None)

    def sub_center(self, sc_id: str) -> SubCenter | None:
        return next((s for s in self.sub_centers if s.id == sc_id), None)


Hotline.model_rebuild()
Web.model_rebuild()
