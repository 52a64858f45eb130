"""The Originate of one attempt, and the agent a clicked 回拨 goes to.

Split from engine.py (which decides *when* to call) so what reaches Asterisk
is in one place: every value here is the engine's own id, a config value
checked by the model, a number checked by `engine.check_task`, or an agent
interface checked by `clicked_interface`.

A missed-call task an agent clicked (回拨, `origin.clicked_by`) connects the
citizen to that agent: the engine looks up the agent's own membership of the
missed-call queue (QueueStatus: config members, or the agent's 签入 from the
console, which only allows the agent's own endpoints), and only when the agent
is free there it hands the interface to the dialplan (HOTLINE_CB_AGENT). A
busy, paused or absent agent: the citizen joins the queue as before, and the
attempt's detail says why (`agent`: {"asked", "result"}).
"""
from __future__ import annotations

from typing import Any

from callbacks import vhold
from ivr.ami.agent_id import agent_id
from ivr.config.safe import MEMBER_RE
from ivr.dialplan import variables as V
from ivr.dialplan.build import asterisk_queue
from ivr.plan.targets import dial_string

OUTBOUND_CONTEXT = "hotline-outbound"
ACTION_PREFIX = "hotline-cb-"
FREE_STATES = ("0", "1")       # AST_DEVICE_UNKNOWN (Local members) / NOT_INUSE


def action(c: dict, cb, trunk_name: str, trunk, agent_interface: str | None = None) -> dict[str, Any]:
    """The AMI Originate of claimed attempt `c` (repo.claim_due)."""
    cid = c["channel_id"]
    act: dict[str, Any] = {
        "Action": "Originate", "ActionID": ACTION_PREFIX + cid, "ChannelId": cid,
        "Channel": dial_string(trunk_name, trunk, c["number"]),
        "Context": OUTBOUND_CONTEXT, "Exten": c["flow"], "Priority": "1",
        "CallerID": f'"{cb.caller_id}" <{cb.caller_id}>',
        "Timeout": str(cb.ring_timeout * 1000), "Async": "true",
        "Variable": [f"{V.CB_ID}={cid}", f"{V.CB_TASK}={c['task']}",
                     f"{V.inherited(V.TICKET)}={c['ticket'] or ''}"],
    }
    if c["flow"] == "survey" and c.get("campaign") in cb.campaigns:  # checked ids: safe
        act["Variable"].append(f"{V.CB_SURVEY}={c['campaign']}")
    if c["flow"] == "queue":
        q = vhold.originate(c, cb, trunk_name, trunk)
        act |= q | {"Variable": act["Variable"] + q["Variable"]}
    if c["flow"] in ("missed", "survey"):  # with an agent: they see the citizen, not 12345 (a checked number)
        act["Variable"].append(f"{V.QCB_CALLER}={c['number']}")
    if c["flow"] == "missed" and agent_interface:
        act["Variable"].append(f"{V.CB_AGENT}={agent_interface}")
    return act


def clicked_interface(listing: list, queue: str, agent: str) -> tuple[str | None, str]:
    """(interface, why) of `agent`'s membership of `queue` in a QueueStatus listing.

    Pure. The interface only when the agent is there, free and not paused,
    and it is the agent's own (its device part is the agent id, the same
    form config members have); else None and the reason for the attempt's detail.
    """
    name = asterisk_queue(queue)
    for ev in listing:
        if ev.get("Event") != "QueueMember" or ev.get("Queue") != name:
            continue
        iface = str(ev.get("Location") or ev.get("Interface") or "")
        if str(ev.get("Name") or "") != agent and agent_id(iface) != agent:
            continue
        if not MEMBER_RE.match(iface) or agent_id(iface) != agent:
            return None, "座席接口不合规，转入队列"
        if str(ev.get("Paused")) == "1":
            return None, "座席示忙，转入队列"
        if str(ev.get("InCall")) == "1" or str(ev.get("Status")) not in FREE_STATES:
            return None, "座席通话中，转入队列"
        return iface, "接通点击回拨的座席"
    return None, "座席未签入该队列，转入队列"
