"""The engine's database steps, each one function of a session (run by `Store`).

Each step is one transaction, so a claim (pending -> dialing plus its attempt
row) is either wholly written or not at all: after a crash a task is either
still pending (called later) or dialing with an attempt row (resolved by
`recover`), never lost and never claimed twice. The claim's UPDATE is
conditional on the state it read, so a second engine on the same database
cannot claim the same task either.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update

from callbacks import surveys
from callbacks.models import ASKED_FLOWS, OPEN_STATES, CallbackAttempt, CallbackTask
from callbacks.policy import Policy, Verdict, dedupe_key
from ivr.storage.models import Call, Ticket


def task_dict(t: CallbackTask) -> dict[str, Any]:
    return {"id": t.id, "flow": t.flow, "number": t.number, "ticket": t.ticket_id, "campaign": t.campaign,
            "state": t.state, "attempts": t.attempts, "due_at": t.due_at.isoformat() if t.due_at else None,
            "result": t.result, "reason": t.reason, "answers": dict(t.answers or {}), "origin": dict(t.origin or {})}


def attempt_dict(a: CallbackAttempt) -> dict[str, Any]:
    iso = lambda v: v.isoformat() if v else None  # noqa: E731
    return {"no": a.no, "channel_id": a.channel_id, "trunk": a.trunk, "started_at": iso(a.started_at),
            "answered_at": iso(a.answered_at), "ended_at": iso(a.ended_at), "cause": a.cause,
            "detail": dict(a.detail or {})}


def add_task(session, policy: Policy, now: dt.datetime, flow: str, number: str, ticket: str | None,
             campaign: str | None, *, delay_s: int = 0, origin: dict | None = None,
             asked: str | None = None) -> tuple[dict | None, bool, str]:
    """(task, created, reason). An existing task for the same ticket is returned as is (idempotent).

    `delay_s`: not before now + delay (then the next window). `asked`: the
    citizen asked for this call themselves (queue callback: 按1保留排队位置) on
    the call with this linkedid: due now, whatever the windows or the
    do-not-call list say, one task per call.
    """
    if asked:
        key = f"{flow}:{number}:{asked}"[:96]
        old = session.scalars(select(CallbackTask).where(CallbackTask.dedupe_key == key)).first()
        if old is not None:
            return task_dict(old), False, "同一通来电已保留位置"
        task = CallbackTask(flow=flow, number=number, dedupe_key=key, origin=origin or {}, state="pending",
                            due_at=now, reason="市民按1保留排队位置，等待回电", created_at=now, updated_at=now)
        session.add(task)
        session.flush()
        return task_dict(task), True, task.reason
    if ticket:
        old = session.scalars(select(CallbackTask).where(CallbackTask.flow == flow,
                                                         CallbackTask.ticket_id == ticket)).first()
        if old is not None:
            return task_dict(old), False, "同一工单已有任务（幂等）"
    key = dedupe_key(flow, number, policy.local_day(now))
    taken = {key} if session.scalars(select(CallbackTask.id).where(CallbackTask.dedupe_key == key)).first() else set()
    verdict = policy.admit(flow, number, now, taken)
    if verdict.action == "refuse":
        return None, False, verdict.reason
    if delay_s:
        verdict = policy.schedule(now + dt.timedelta(seconds=delay_s), f"{delay_s}秒后回拨")
    task = CallbackTask(flow=flow, number=number, ticket_id=ticket, campaign=campaign, dedupe_key=key,
                        origin=origin or {},
                        state="pending" if verdict.at else "refused", due_at=verdict.at or now,
                        reason=verdict.reason, created_at=now, updated_at=now)
    session.add(task)
    session.flush()  # the id; a concurrent add of the same key fails here (unique dedupe_key)
    return task_dict(task), True, verdict.reason


def active_attempts(session) -> int:
    return session.scalar(select(func.count()).select_from(CallbackAttempt)
                          .where(CallbackAttempt.ended_at.is_(None))) or 0


def claim_due(session, policy: Policy, now: dt.datetime, trunk: str, inbound: int, make_id,
              limits: dict[str, int] | None = None) -> list[dict]:
    """Claim as many due tasks as free channels allow; each gets a new attempt row.

    Returns what the engine needs to originate: task and attempt fields.
    Due tasks found outside a window (a window shut since they were
    scheduled) are moved to the next window instead. `limits`: at most this
    many new claims of a flow (missed calls: the agents free right now).
    A missed-call task whose citizen has meanwhile been answered on a call of
    their own is closed instead of called.
    """
    limits = dict(limits or {})
    slots, _why = policy.free_slots(active_attempts(session), inbound)
    if slots <= 0:
        return []
    claimed: list[dict] = []
    due = session.scalars(select(CallbackTask).where(CallbackTask.state == "pending", CallbackTask.due_at <= now)
                          .order_by(CallbackTask.due_at, CallbackTask.id).limit(slots * 4 + 20)).all()
    for task in due:
        if len(claimed) >= slots:
            break
        if task.number in policy.do_not_call and task.flow not in ASKED_FLOWS:
            _close(session, task, "refused", Verdict("refuse", "号码在免打扰名单中（do-not-call）"), now)
            continue
        if limits.get(task.flow, 1) <= 0:
            continue
        if task.flow == "missed" and _answered_since(session, task):
            _close(session, task, "done", Verdict("done", "市民已再次来电并接通，无需回拨"), now)
            continue
        verdict = policy.may_start(now) if task.flow not in ASKED_FLOWS else Verdict("call", "市民要求回电")
        if verdict.action != "call":
            _reschedule(session, task, verdict, now)
            continue
        won = session.execute(update(CallbackTask).where(CallbackTask.id == task.id, CallbackTask.state == "pending")
                              .values(state="dialing", attempts=CallbackTask.attempts + 1, updated_at=now)
                              .execution_options(synchronize_session=False)).rowcount
        if not won:
            continue
        if task.flow in limits:
            limits[task.flow] -= 1
        no = task.attempts + 1
        session.expire(task, ["state", "attempts", "updated_at"])  # the UPDATE above changed them
        attempt = CallbackAttempt(task_id=task.id, no=no, channel_id=make_id(), trunk=trunk, started_at=now)
        session.add(attempt)
        claimed.append({"task": task.id, "flow": task.flow, "number": task.number, "ticket": task.ticket_id,
                        "campaign": task.campaign, "no": no, "channel_id": attempt.channel_id,
                        "origin": dict(task.origin or {})})
    session.flush()
    return claimed


def _answered_since(session, task: CallbackTask) -> bool:
    return session.scalar(select(func.count()).select_from(Call).where(
        Call.caller == task.number, Call.started_at > task.created_at, Call.disposition == "answered")) > 0


def _reschedule(session, task: CallbackTask, verdict: Verdict, now: dt.datetime) -> None:
    if verdict.at is None:
        _close(session, task, "refused", verdict, now)
        return
    task.due_at, task.reason, task.updated_at = verdict.at, verdict.reason, now


def _close(session, task: CallbackTask, state: str, verdict: Verdict, now: dt.datetime) -> None:
    task.state, task.reason, task.updated_at = state, verdict.reason, now


def _attempt(session, channel_id: str) -> CallbackAttempt | None:
    """The attempt whose Originate used `channel_id` (the engine's own id)."""
    return session.scalars(select(CallbackAttempt).where(CallbackAttempt.channel_id == channel_id)).first()


def attempt_answered(session, channel_id: str, now: dt.datetime) -> bool:
    a = _attempt(session, channel_id)
    if a is None or a.answered_at is not None or a.ended_at is not None:
        return False
    a.answered_at, a.cause = now, "answered"
    return True


def finish_attempt(session, policy: Policy, channel_id: str, cause: str, detail: dict, now: dt.datetime
                   ) -> dict | None:
    """End an attempt (once: a second report of the same attempt is ignored) and decide the task's next step."""
    a = _attempt(session, channel_id)
    if a is None or a.ended_at is not None:
        return None
    if a.answered_at is not None and not detail.get("dial_status"):
        cause = "answered"  # a kept queue place is "answered" by the agent: the citizen's leg says (dial_status)
    a.ended_at, a.cause, a.detail = now, cause, {**(a.detail or {}), **detail}
    task = session.get(CallbackTask, a.task_id)
    if task.state != "dialing":  # cancelled while on the trunk: stays cancelled
        return task_dict(task)
    verdict = policy.after_attempt(task.attempts, cause, now)
    task.result = cause
    if verdict.action == "done":
        _close(session, task, "done", verdict, now)
    else:
        task.state = "pending"
        _reschedule(session, task, verdict, now)
    return task_dict(task)


def store_answer(session, channel_id: str, question: str, key: str, campaigns: dict, now: dt.datetime,
                 heard: str | None = None) -> dict | None:
    """A DTMF answer: on the task, and on its ticket (extra["回访"]) when the ticket is ours.

    What the key means comes from the task's campaign (callbacks/surveys.py);
    a "not satisfied"/"not solved" key flags the ticket for 重办 (returned to
    the department). A spoken answer (`heard`: the recognised text) means what
    its key means and is stored as "s<key>" with the text (callbacks/spoken.py).
    """
    a = _attempt(session, channel_id)
    if a is None:
        return None
    task = session.get(CallbackTask, a.task_id)
    text, redo = surveys.meaning(campaigns, task.campaign, question, key)
    if heard is not None:
        key = f"s{key}" if key.isdigit() else key
    answer = {"key": key, "text": text, "at": now.isoformat()} | ({"heard": heard[:200]} if heard is not None else {})
    task.answers = {**(task.answers or {}), question: answer}
    task.updated_at = now
    if task.ticket_id:
        ticket = session.get(Ticket, task.ticket_id)
        if ticket is not None:
            extra = dict(ticket.extra or {})
            extra["回访"] = surveys.ticket_result(extra.get("回访"), task.id, question, text, key, redo, answer["at"])
            ticket.extra = extra
            ticket.updated_at, ticket.updated_by = now, "callbacks"
    return task_dict(task)


def campaign_of(session, channel_id: str) -> tuple[bool, str | None]:
    """(is it one of our attempts, its task's campaign)."""
    a = _attempt(session, channel_id)
    task = session.get(CallbackTask, a.task_id) if a is not None else None
    return task is not None, task.campaign if task is not None else None


def unfinished_attempts(session) -> list[str]:
    return list(session.scalars(select(CallbackAttempt.channel_id).where(CallbackAttempt.ended_at.is_(None))))


def cancel_task(session, task_id: int, now: dt.datetime) -> dict | None:
    task = session.get(CallbackTask, task_id)
    if task is None:
        return None
    if task.state in OPEN_STATES:
        task.state, task.reason, task.updated_at = "cancelled", "操作员取消", now
    return task_dict(task)


def list_tasks(session, state: str | None = None, limit: int = 100, ticket: str | None = None) -> list[dict]:
    q = select(CallbackTask).order_by(CallbackTask.id.desc()).limit(limit)
    if state:
        q = q.where(CallbackTask.state == state)
    if ticket:
        q = q.where(CallbackTask.ticket_id == ticket)
    return [task_dict(t) for t in session.scalars(q)]


def get_task(session, task_id: int) -> dict | None:
    task = session.get(CallbackTask, task_id)
    if task is None:
        return None
    attempts = session.scalars(select(CallbackAttempt).where(CallbackAttempt.task_id == task_id)
                               .order_by(CallbackAttempt.no)).all()
    return task_dict(task) | {"attempt_log": [attempt_dict(a) for a in attempts]}


def stats(session) -> dict[str, Any]:
    by_state = dict(session.execute(select(CallbackTask.state, func.count()).group_by(CallbackTask.state)).all())
    by_cause = dict(session.execute(select(CallbackAttempt.cause, func.count())
                                    .where(CallbackAttempt.cause.is_not(None)).group_by(CallbackAttempt.cause)).all())
    return {"tasks": by_state, "attempts": by_cause, "active": active_attempts(session)}


def missed_open(session, limit: int = 50) -> list[dict]:
    """Missed-call tasks still to be called back, oldest first (the console's 回拨 list)."""
    q = (select(CallbackTask).where(CallbackTask.flow == "missed", CallbackTask.state.in_(OPEN_STATES))
         .order_by(CallbackTask.created_at, CallbackTask.id).limit(limit))
    return [task_dict(t) for t in session.scalars(q)]


def dial_now(session, task_id: int, agent: str, now: dt.datetime) -> dict | None:
    """An agent clicked 回拨: a pending missed-call task is due now (None: no such task waiting)."""
    task = session.get(CallbackTask, task_id)
    if task is None or task.flow != "missed" or task.state != "pending":
        return None
    task.due_at, task.updated_at = now, now
    task.reason = f"座席 {agent} 点击回拨"
    task.origin = {**(task.origin or {}), "clicked_by": agent}
    return task_dict(task)


def note_attempt(session, channel_id: str, detail: dict) -> None:
    """Add to an attempt's detail while it is on the trunk (e.g. the clicked agent's outcome)."""
    a = _attempt(session, channel_id)
    if a is not None and a.ended_at is None:
        a.detail = {**(a.detail or {}), **detail}


def unnotified(session, limit: int = 50) -> list[dict]:
    """Finished tasks with a ticket whose result the webhook has not yet accepted."""
    q = (select(CallbackTask).where(CallbackTask.state.in_(("done", "refused", "cancelled")),
                                    CallbackTask.ticket_id.is_not(None), CallbackTask.notified_at.is_(None))
         .order_by(CallbackTask.id).limit(limit))
    return [task_dict(t) for t in session.scalars(q)]


def mark_notified(session, task_ids: list[int], now: dt.datetime) -> None:
    session.execute(update(CallbackTask).where(CallbackTask.id.in_(task_ids)).values(notified_at=now))
