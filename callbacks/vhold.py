"""Queue callback (virtual hold, 排队回电): the caller who pressed 1 keeps their place.

The dialplan (callbacks/dialplan_flows.py) reports the press as
`UserEvent(HotlineQueueCallback, Queue, Position, Number, Line, Dialed)` (with its channel's Linkedid);
this module turns it into a `queue` task (due now: the citizen asked) and
builds the Originate of its attempt:

- agent-first (default): a Local channel whose `;2` half waits in the queue
  at the caller's position (`hotline-qcb-place`) under the citizen's number,
  with HOTLINE_CALLBACK=queue and the original line and dialed number (the
  agent's pop shows it is a callback, with the line). When an agent answers
  it, the `;1` half dials the citizen over the trunk (`hotline-outbound,queue`);
  the attempt's cause is the citizen leg's DIALSTATUS.
- caller-first: the citizen is dialed over the trunk once an agent of the
  queue is free (like 漏接回拨) and joins the queue at its head under their
  own number (the pop shows the citizen, not the 12345 they were called from).

Everything that reaches the Originate is checked here: the queue must be one
that offers callbacks, the position digits, the number 3–20 digits, the line
and dialed number our own id/digit patterns.
"""
from __future__ import annotations

import re

from ivr.dialplan import variables as V
from ivr.plan.targets import dial_string

PLACE = "Local/s@hotline-qcb-place/n"
LINE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
DIGITS_RE = re.compile(r"^\d{1,20}$")


def offer_origin(ev, offering: dict[str, int]) -> tuple[str, dict] | None:
    """(number, origin) of a HotlineQueueCallback event, or None when anything in it is off."""
    number, queue = str(ev.get("Number") or ""), str(ev.get("Queue") or "")
    if not re.fullmatch(r"\d{3,20}", number) or queue not in offering:
        return None
    pos, joined = str(ev.get("Position") or ""), str(ev.get("Joined") or "")
    line, dialed = str(ev.get("Line") or ""), str(ev.get("Dialed") or "")
    return number, {
        "linkedid": str(ev.get("Linkedid") or "")[:64], "queue": queue,
        "position": int(pos) if DIGITS_RE.match(pos) and int(pos) < 100_000 else 0,
        "joined": int(joined) if DIGITS_RE.match(joined) else None,
        "line": line if LINE_RE.match(line) else "", "dialed": dialed if DIGITS_RE.match(dialed) else "",
    }


def originate(c: dict, cb, trunk_name: str, trunk) -> dict:
    """Channel, Exten, Timeout and Variables of a queue task's attempt (the engine adds the rest)."""
    o = c["origin"]
    queue = o["queue"] if o.get("queue") in cb.queue_callback else cb.missed_queue
    keep = [f"__{V.CALLBACK}=queue", f"__{V.QCB_QUEUE}={queue}",
            f"__HOTLINE_LINE={o.get('line') or ''}", f"__HOTLINE_DIALED={o.get('dialed') or ''}"]
    if cb.queue_callback_mode == "caller_first":
        return {"Channel": dial_string(trunk_name, trunk, c["number"]), "Exten": "queue-first",
                "Timeout": str(cb.ring_timeout * 1000), "Variable": keep + [f"{V.QCB_CALLER}={c['number']}"]}
    # A retry has had its turn already: back at the head of the queue.
    pos = (o.get("position") or 0) if c["no"] == 1 else 1
    return {"Channel": PLACE, "Exten": "queue", "Timeout": str(cb.queue_callback_hold * 1000),
            "CallerID": f'"{c["number"]}" <{c["number"]}>',  # the call's caller, as the tracker sees it
            "Variable": keep + [f"__{V.QCB_POS}={pos}", f"__{V.QCB_CALLER}={c['number']}",
                                f"__{V.QCB_HOLD}={cb.queue_callback_hold}",
                                f"{V.QCB_DIAL}={dial_string(trunk_name, trunk, c['number'])}",
                                f"{V.QCB_RING}={cb.ring_timeout}", f"{V.QCB_CID}={cb.caller_id}"]}


def is_place(channel: str) -> bool:
    """A kept place's own channel (its hang-up in the queue is no missed call)."""
    return channel.startswith("Local/s@hotline-qcb-place-")
