"""What the outbound engine may do next, with a reason for every answer.

Pure (no clock, no database, no Asterisk): the engine hands in the moment,
the task's history and what is running, and gets back a `Verdict`. Rules
(docs/callbacks.md):

- a number on the do-not-call list is never called;
- one task per number and flow per local day (dedupe);
- a call only inside a calling window (`callbacks.windows`);
- at most `max_attempts` attempts; after a failed one the next waits the
  delay for its cause (busy, no answer, rejected, unreachable, congestion),
  then for the next window;
- outbound calls never take the channels kept for inbound calls.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from callbacks.windows import CallingCalendar

ANSWERED = "answered"
CAUSE_TEXT = {"answered": "已接听", "busy": "忙线", "no_answer": "无人接听", "rejected": "拒接",
              "unreachable": "无法接通", "congestion": "线路拥塞", "failed": "呼叫失败"}

# Q.850 hangup causes as Asterisk reports them (Hangup event "Cause").
_BY_HANGUP_CAUSE = {
    17: "busy",
    18: "no_answer", 19: "no_answer",
    21: "rejected",
    1: "unreachable", 2: "unreachable", 3: "unreachable", 20: "unreachable", 22: "unreachable",
    27: "unreachable", 28: "unreachable", 38: "unreachable",
    34: "congestion", 41: "congestion", 42: "congestion", 44: "congestion", 47: "congestion",
}
# OriginateResponse "Reason": the last control frame the dialed channel sent.
_BY_ORIGINATE_REASON = {0: "failed", 1: "rejected", 3: "no_answer", 4: ANSWERED, 5: "busy", 8: "congestion"}


def classify(response: str | None, reason: object = None, hangup_cause: object = None) -> str:
    """The cause of an attempt from Asterisk's OriginateResponse and the channel's hangup cause.

    The Q.850 cause is the more precise (a 404 and a 503 both end an
    originate with Reason 0 or 8), so it wins when Asterisk gave one.
    """
    if (response or "").lower() == "success":
        return ANSWERED
    cause = _int(hangup_cause)
    if cause in _BY_HANGUP_CAUSE:
        return _BY_HANGUP_CAUSE[cause]
    return _BY_ORIGINATE_REASON.get(_int(reason), "failed")


# Dial() DIALSTATUS of the citizen's leg of a kept queue place (agent-first).
_BY_DIALSTATUS = {"ANSWER": ANSWERED, "BUSY": "busy", "NOANSWER": "no_answer", "CONGESTION": "congestion",
                  "CHANUNAVAIL": "unreachable"}


def classify_dial(status: str) -> str:
    return _BY_DIALSTATUS.get(status.upper(), "failed")


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Verdict:
    action: str                 # call | wait | done | refuse
    reason: str                 # for operators, Chinese first
    at: dt.datetime | None = None  # call/wait: the moment the next attempt may start

    def to_dict(self) -> dict:
        return {"action": self.action, "reason": self.reason, "at": self.at.isoformat() if self.at else None}


def dedupe_key(flow: str, number: str, day: dt.date) -> str:
    return f"{flow}:{number}:{day.isoformat()}"


class Policy:
    def __init__(self, cb, calendar: CallingCalendar) -> None:
        self.cb = cb
        self.calendar = calendar
        self.do_not_call = frozenset(cb.do_not_call)

    @classmethod
    def from_config(cls, config) -> Policy:
        return cls(config.callbacks, CallingCalendar.from_config(config.callbacks, config.hotline.timezone))

    def local_day(self, at: dt.datetime) -> dt.date:
        return at.astimezone(self.calendar.tz).date()

    def admit(self, flow: str, number: str, at: dt.datetime, existing_keys: set[str] | frozenset[str] = frozenset()
              ) -> Verdict:
        """May a new task for `number` in `flow` be created at `at`? When is its first attempt?"""
        if number in self.do_not_call:
            return Verdict("refuse", "号码在免打扰名单中（do-not-call）")
        if dedupe_key(flow, number, self.local_day(at)) in existing_keys:
            return Verdict("refuse", f"同一号码今日已有{flow}任务（dedupe）")
        return self.schedule(at, "新任务")

    def schedule(self, earliest: dt.datetime, why: str) -> Verdict:
        at = self.calendar.next_open(earliest)
        if at is None:
            return Verdict("done", f"{why}：一年内没有可呼叫时段，放弃")
        if at == earliest:
            return Verdict("call", f"{why}：在呼叫时段内", at)
        return Verdict("wait", f"{why}：等待下一呼叫时段 {self.calendar.describe(at)}", at)

    def after_attempt(self, attempts: int, cause: str, ended_at: dt.datetime) -> Verdict:
        """After attempt number `attempts` ended with `cause`: done, or when to try again."""
        text = CAUSE_TEXT.get(cause, cause)
        if cause == ANSWERED:
            return Verdict("done", "已接听")
        if attempts >= self.cb.max_attempts:
            return Verdict("done", f"第{attempts}次{text}，已达最多{self.cb.max_attempts}次，不再呼叫")
        delay = int(self.cb.retry_after.get(cause, self.cb.retry_after.get("failed", 900)))
        return self.schedule(ended_at + dt.timedelta(seconds=delay), f"第{attempts}次{text}，{delay}秒后重试")

    def may_start(self, at: dt.datetime) -> Verdict:
        """Is a due task still inside a window at the moment the engine picks it up?"""
        return self.schedule(at, "到期")

    @property
    def cap(self) -> int:
        """Outbound channels at most: the trunk's channels less those kept for inbound."""
        return self.cb.channels - self.cb.reserve_inbound

    def free_slots(self, outbound: int, inbound: int = 0) -> tuple[int, str]:
        """How many attempts may start now, and why not more.

        `outbound` attempts are on the trunk; `inbound` calls hold channels.
        Outbound stays below the cap (so `reserve_inbound` channels are always
        left) and never takes a channel that inbound calls already hold.
        """
        by_cap = self.cap - outbound
        by_trunk = self.cb.channels - self.cb.reserve_inbound - max(0, inbound - self.cb.reserve_inbound) - outbound
        slots = max(0, min(by_cap, by_trunk))
        if slots == 0:
            if by_cap <= by_trunk:
                return 0, f"外呼已达上限{self.cap}路（保留{self.cb.reserve_inbound}路给呼入）"
            return 0, f"呼入占用{inbound}路，中继剩余线路留给呼入"
        return slots, f"可再外呼{slots}路"
