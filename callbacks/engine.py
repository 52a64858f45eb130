"""The outbound engine: due tasks become AMI Originates, Asterisk's answers become attempt rows.

One engine per server, used by every flow (survey 回访, missed-call and queue
callbacks, ratings). Each turn it claims as many due tasks as the trunk cap
allows (`repo.claim_due`, one transaction) and originates each one
asynchronously with caller ID 12345 through the configured trunk into
`hotline-outbound,<flow>,1`. The originated channel's id is chosen here
(Originate ChannelId) and stored with the attempt first, so every later
event — OriginateResponse (answered or why not), Hangup (Q.850 cause, end
of an answered call), UserEvent HotlineCallback (a survey answer) — finds
its attempt by that id, including after a restart.

Restart: attempts still open in the database are matched against the live
channels (CoreShowChannels) once AMI is up; those alive are followed to
their end; those gone are closed by the outcome the dialplan noted in AstDB
(`hotline_cb/<attempt>`: the citizen answered, or the kept place's
DIALSTATUS), else as `failed` (the policy retries them): a call that ended
while the server was down is not placed a second time.
Nothing is lost (the task is in the database) and nothing doubles (a task is
`dialing` until its one open attempt is closed).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import uuid
from typing import Any, Callable

from ivr.waits import stop_tasks, wait_event
from callbacks import originate, recovery, repo, vhold
from callbacks.calendars import missing_years
from callbacks.models import FLOWS, ensure_tables
from callbacks.originate import ACTION_PREFIX
from callbacks.policy import Policy, classify, classify_dial
from callbacks.spoken_service import SpokenAnswers
from callbacks.webhook import ResultPusher
from ivr.ami.client import AmiError
from ivr.dialplan.build import asterisk_queue
from ivr.plugins import PluginServices
from ivr.privacy import mask_number

log = logging.getLogger(__name__)

CALLABLE_RE = re.compile(r"^\d{3,20}$")
ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
CAUSE_GRACE_S = 1.0  # how long a failed originate waits for its channel's Hangup cause


class CallbackError(ValueError):
    """A task that cannot be created (bad number, unknown flow, refused by policy)."""


def check_task(flow: str, number: str, ticket: str | None, campaign: str | None) -> str:
    """The number to dial, or CallbackError: nothing unchecked reaches a dial string or the dialplan."""
    number = str(number).strip()
    if flow not in FLOWS:
        raise CallbackError(f"unknown flow {flow!r}: one of {', '.join(FLOWS)}")
    if not CALLABLE_RE.match(number):
        raise CallbackError("号码格式错误：只能是3到20位数字")
    for name, value in (("ticket", ticket), ("campaign", campaign)):
        if value is not None and not ID_RE.match(str(value)):
            raise CallbackError(f"{name} 格式错误：字母、数字、-_. ，至多32位")
    return number


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class CallbackEngine:
    def __init__(self, config, store, ami, *, clock: Callable[[], dt.datetime] = utcnow,
                 inbound: Callable[[], int] | None = None, speech: Callable[[], Any] | None = None) -> None:
        cb = config.callbacks
        trunk = config.trunks.get(cb.trunk)
        if trunk is None:
            raise CallbackError(f"callbacks.trunk: trunk {cb.trunk!r} is not defined in trunks")
        if cb.missed and config.queue(cb.missed_queue) is None:
            raise CallbackError(f"callbacks.missed_queue: queue {cb.missed_queue!r} is not defined in queues")
        self.cb, self.store, self.ami, self.clock = cb, store, ami, clock
        self.inbound = inbound or (lambda: len(self._inbound))
        self.policy = Policy.from_config(config)
        self.trunk_name, self.trunk = cb.trunk, trunk
        self.live: dict[str, str] = {}        # channel id -> flow, attempts on the trunk
        self.peak = 0                         # most attempts ever on the trunk at once
        self._causes: dict[str, str] = {}     # channel id -> Q.850 cause from its Hangup
        self._answered: set[str] = set()
        self._dialed: dict[str, str] = {}     # kept queue place -> the citizen leg's DIALSTATUS
        self._orphans: set[str] = set()       # found ringing after a restart: their response was missed
        self._recovered = False
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._pending: set[asyncio.Task] = set()
        # Inbound calls holding a trunk channel (PJSIP trunks): their channels
        # are named after the trunk's endpoint and are not ours.
        self._inbound: set[str] = set()
        self._trunk_prefix = f"PJSIP/{trunk.endpoint or cb.trunk}-" if trunk.type == "pjsip" else None
        self.pusher = ResultPusher(cb.webhook, cb.webhook_token, store, clock) if cb.webhook else None
        self.spoken = SpokenAnswers(config, store, clock, speech) if config.speech.enabled and speech else None

    @classmethod
    def from_services(cls, services: PluginServices) -> CallbackEngine | None:
        config = services.config
        if not config.callbacks.enabled or services.store is None or services.ami is None:
            return None
        return cls(config, services.store, services.ami, clock=services.clock,
                   speech=lambda: getattr(services.speech, "engine", None))

    # -- life ----------------------------------------------------------------------
    async def start(self) -> None:
        ensure_tables(self.store.engine)
        if self.spoken is not None:
            self.spoken.prepare()
        self.ami.on("OriginateResponse", self._on_originate)
        self.ami.on("Hangup", self._on_hangup)
        if self._trunk_prefix:
            self.ami.on("Newchannel", self._on_newchannel)
        self.ami.on("UserEvent", self._on_user_event)
        if self.cb.missed:
            self.ami.on("QueueCallerAbandon", self._on_abandon)
        self._task = asyncio.create_task(self._run(), name="callbacks")
        log.info("callbacks: trunk %s, at most %d outbound channel(s)", self.trunk_name, self.policy.cap)
        years = missing_years(self.cb.calendars, self.cb.holidays, self.policy.local_day(self.clock())) \
            if self.cb.calendars else []   # `calendars: []`: the city keeps its own days (holidays/workdays)
        for year in years:
            log.warning("callbacks: no holiday calendar for %d (callbacks.calendars / holidays): its 节假日 and "
                        "调休 are treated as ordinary days; add them (docs/callbacks.md)", year)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        tasks = [t for t in (self._task, *self._pending) if t is not None]
        await stop_tasks(tasks)
        if self.spoken is not None:
            await self.spoken.stop()

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.tick()
                if self.pusher is not None:
                    await self.pusher.push()
            except Exception:  # one bad turn must not end the engine
                log.exception("callbacks: turn failed")
            await wait_event(self._wake, self.cb.poll_seconds)
            self._wake.clear()

    # -- tasks -----------------------------------------------------------------------
    async def add(self, flow: str, number: str, *, ticket: str | None = None,
                  campaign: str | None = None) -> tuple[dict, bool]:
        """Create a task (or return the ticket's existing one): (task, created). CallbackError when refused."""
        number = check_task(flow, number, ticket, campaign)
        task, created, reason = await self.store.run(repo.add_task, self.policy, self.clock(), flow, number,
                                                     ticket, campaign)
        if task is None:
            raise CallbackError(reason)
        if created:
            log.info("callbacks: task %d (%s) for %s: %s", task["id"], flow, mask_number(number), reason)
            self.wake()
        return task, created

    async def cancel(self, task_id: int) -> dict | None:
        return await self.store.run(repo.cancel_task, task_id, self.clock())

    # -- one turn -----------------------------------------------------------------
    async def tick(self) -> int:
        """Recover if needed, then claim and originate what is due; returns how many started."""
        if not self.ami.connected:
            return 0
        if not self._recovered:
            await self._recover()
        limits = {"missed": await self._free_agents(self.cb.missed_queue) - self._live("missed")} \
            if self.cb.missed else {"missed": 0}
        if self.cb.queue_callback_mode == "caller_first":  # 排队回电 caller-first: only with an agent free
            free = [await self._free_agents(q) for q in sorted(self.cb.queue_callback)]
            limits["queue"] = sum(free) - self._live("queue")
        claimed = await self.store.run(repo.claim_due, self.policy, self.clock(), self.trunk_name,
                                       self.inbound(), lambda: f"cb-{uuid.uuid4().hex[:24]}", limits)
        for c in claimed:
            self.live[c["channel_id"]] = c["flow"]
        self.peak = max(self.peak, len(self.live))
        await asyncio.gather(*(self._originate(c) for c in claimed))
        return len(claimed)

    def _live(self, flow: str) -> int:
        return sum(f == flow for f in self.live.values())

    async def _originate(self, c: dict) -> None:
        cid, agent = c["channel_id"], None
        if c["flow"] == "missed" and (clicked := c["origin"].get("clicked_by")):
            agent = await self._clicked_agent(cid, str(clicked))
        act = originate.action(c, self.cb, self.trunk_name, self.trunk, agent)
        log.info("callbacks: task %d attempt %d to %s", c["task"], c["no"], mask_number(c["number"]))
        try:
            resp = await self.ami.action(act)
            ok = getattr(resp, "success", False)
            error = "" if ok else str(resp.get("Message", "refused"))
        except (AmiError, OSError, asyncio.TimeoutError) as exc:
            ok, error = False, type(exc).__name__
        if not ok:
            await self._finish(cid, "failed", {"error": error})

    async def _clicked_agent(self, cid: str, agent: str) -> str | None:
        """The clicking agent's interface when free in the missed-call queue; the attempt notes the outcome."""
        try:
            listing = await self.ami.action({"Action": "QueueStatus", "Queue": asterisk_queue(self.cb.missed_queue)},
                                            as_list=True)
        except (AmiError, OSError, asyncio.TimeoutError):
            listing = []
        iface, why = originate.clicked_interface(listing if isinstance(listing, list) else [], self.cb.missed_queue,
                                                 agent)
        await self.store.run(repo.note_attempt, cid, {"agent": {"asked": agent, "result": why}})
        return iface

    async def _free_agents(self, queue: str) -> int:
        """Members of `queue` free to take a call now (QueueSummary Available)."""
        try:
            reply = await self.ami.action({"Action": "QueueSummary", "Queue": asterisk_queue(queue)},
                                          as_list=True)
        except (AmiError, OSError, asyncio.TimeoutError):
            return 0
        return sum(int(m.get("Available") or 0) for m in (reply if isinstance(reply, list) else [reply])
                   if m.get("Event") == "QueueSummary")

    # -- 漏接回拨 ------------------------------------------------------------------
    def _on_abandon(self, ev) -> None:
        """A caller hung up in a queue: after `missed_after` s of waiting, a callback task."""
        try:
            hold = int(ev.get("HoldTime") or 0)
        except ValueError:
            return
        number = str(ev.get("CallerIDNum") or "")
        if vhold.is_place(str(ev.get("Channel") or "")):
            return
        if hold < self.cb.missed_after or not CALLABLE_RE.match(number):
            return
        origin = {"linkedid": str(ev.get("Linkedid") or "")[:64], "queue": str(ev.get("Queue") or "")[:64],
                  "hold_s": hold}
        self._spawn(self._add_missed(number, origin))

    async def _add_missed(self, number: str, origin: dict) -> None:
        task, created, reason = await self.store.run(repo.add_task, self.policy, self.clock(), "missed", number,
                                                     None, None, delay_s=self.cb.missed_delay, origin=origin)
        log.info("callbacks: missed call from %s (waited %ss): %s", mask_number(number), origin["hold_s"],
                 f"task {task['id']}" if created else reason)
        self.wake()

    # -- Asterisk's answers -------------------------------------------------------
    def _on_originate(self, ev) -> None:
        aid = str(ev.get("ActionID", ""))
        if not aid.startswith(ACTION_PREFIX):
            return
        cid = aid[len(ACTION_PREFIX):]
        if cid not in self.live:
            return
        if str(ev.get("Response", "")).lower() == "success":
            self._answered.add(cid)
            self._spawn(self._answered_now(cid))
            return
        self._spawn(self._failed(cid, ev.get("Reason")))

    async def _answered_now(self, cid: str) -> None:
        await self.store.run(repo.attempt_answered, cid, self.clock())
        if cid in self._causes:  # hung up before the response arrived
            await self._finish(cid, "answered", {"hangup_cause": self._causes[cid]})

    async def _failed(self, cid: str, reason: Any) -> None:
        for _ in range(int(CAUSE_GRACE_S / 0.05)):
            if cid in self._causes:
                break
            await asyncio.sleep(0.05)
        hangup = self._causes.get(cid)
        await self._finish(cid, classify("Failure", reason, hangup),
                           {"originate_reason": str(reason), "hangup_cause": hangup})

    def _on_newchannel(self, ev) -> None:
        uid = str(ev.get("Uniqueid", ""))
        if str(ev.get("Channel", "")).startswith(self._trunk_prefix) and uid not in self.live \
                and not uid.startswith("cb-") and not str(ev.get("Linkedid", "")).startswith("cb-") \
                and len(self._inbound) < 100_000:
            self._inbound.add(uid)

    def _on_hangup(self, ev) -> None:
        cid = str(ev.get("Uniqueid", ""))
        self._inbound.discard(cid)
        if cid not in self.live:
            return
        self._causes[cid] = str(ev.get("Cause", ""))
        # A kept queue place reports its citizen leg (DIALSTATUS), also when found
        # waiting after a restart (its OriginateResponse went to the old process).
        status = self._dialed.pop(cid, None)
        detail = {"hangup_cause": self._causes[cid]} | ({"dial_status": status} if status else {})
        if status:
            self._spawn(self._finish(cid, classify_dial(status), detail))
        elif cid in self._answered:
            self._spawn(self._finish(cid, "answered", detail))
        elif cid in self._orphans:
            self._spawn(self._finish(cid, classify("Failure", None, self._causes[cid]), detail))

    def _on_user_event(self, ev) -> None:
        if ev.get("UserEvent") == "HotlineQueueCallback" and self.cb.queue_callback:
            found = vhold.offer_origin(ev, self.cb.queue_callback)
            if found is not None:
                self._spawn(self._add_asked("queue", *found))
            return
        if ev.get("UserEvent") == "HotlineSpoken" and self.spoken is not None:
            return self.spoken.on_event(ev)
        if ev.get("UserEvent") != "HotlineCallback":
            return
        cid, question, key = str(ev.get("Id", "")), str(ev.get("Question", "")), str(ev.get("Digit", ""))
        if not cid.startswith("cb-") or not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", question):
            return
        if question == "dial":  # the citizen's leg of a kept queue place: its outcome is the attempt's
            if cid in self.live:
                self._dialed[cid] = key[:16]
            return
        if question == "agent":  # a clicked 回拨 rang its agent: DIALSTATUS (not ANSWER: the queue took over)
            return self._spawn(self.store.run(repo.note_attempt, cid, {"agent_dial": key[:16]}))
        self._spawn(self.store.run(repo.store_answer, cid, question, key[:8], self.cb.campaigns, self.clock()))

    async def _add_asked(self, flow: str, number: str, origin: dict) -> None:
        task, created, reason = await self.store.run(repo.add_task, self.policy, self.clock(), flow, number,
                                                     None, None, origin=origin, asked=origin["linkedid"] or number)
        log.info("callbacks: %s callback for %s (queue %s, place %s): %s", flow, mask_number(number),
                 origin["queue"], origin["position"], f"task {task['id']}" if created else reason)
        self.wake()

    async def _finish(self, cid: str, cause: str, detail: dict) -> None:
        if self.spoken is not None:  # a spoken answer still decoding belongs in the result
            await self.spoken.settle(cid)
        task = await self.store.run(repo.finish_attempt, self.policy, cid, cause, detail, self.clock())
        noted = cid in self._answered or cause == "answered" or "dial_status" in detail  # AstDB has a note
        self.live.pop(cid, None)
        self._answered.discard(cid)
        self._orphans.discard(cid)
        self._causes.pop(cid, None)
        self._dialed.pop(cid, None)
        if noted:
            self._spawn(self._forget_note(cid))
        if task is not None:
            log.info("callbacks: task %d attempt ended %s -> %s (%s)", task["id"], cause, task["state"],
                     task["reason"])
        self.wake()

    def _spawn(self, coro) -> None:
        t = asyncio.create_task(coro)
        self._pending.add(t)
        t.add_done_callback(self._pending.discard)

    # -- restart (callbacks/recovery.py) ----------------------------------------------
    async def _recover(self) -> None:
        """Adopt or close every attempt a previous process left open (callbacks/recovery.py)."""
        for cid, state, status in await recovery.open_attempts(self.store, self.ami):
            self.live[cid] = "?"
            if state == "6":  # up: answered, in the outbound dialplan
                self._answered.add(cid)
                await self.store.run(repo.attempt_answered, cid, self.clock())
            elif state is not None:
                self._orphans.add(cid)
            elif status:  # ended while nobody listened: what the dialplan noted decides
                await self._finish(cid, classify_dial(status), {"dial_status": status, "recovered": True})
            else:
                await self._finish(cid, "failed", {"lost": "服务重启时通话已不存在"})
        self._recovered = True

    async def _forget_note(self, cid: str) -> None:
        await recovery.forget_note(self.ami, cid)
