"""After a restart: the attempts still open in the database, matched against Asterisk.

Split from engine.py. Attempts still open are matched against the live
channels (CoreShowChannels) once AMI is up; those alive are followed to their
end by the engine; those gone are closed by the outcome the dialplan noted in
AstDB (`hotline_cb/<attempt>`: the citizen answered, or the kept place's
DIALSTATUS), else as `failed` (the policy retries them): a call that ended
while the server was down is not placed a second time.
"""
from __future__ import annotations

import asyncio
import re

from callbacks import repo
from callbacks.policy import classify_dial
from ivr.ami.client import AmiError

NOTE_FAMILY = "hotline_cb"  # AstDB: the dialplan's note of an attempt's outcome (dialplan_flows.ANSWERED)


async def recover(engine) -> None:
    """Adopt or close every attempt a previous process left open (engine: callbacks.engine.CallbackEngine)."""
    open_ids = await engine.store.run(repo.unfinished_attempts)
    alive: dict[str, str] = {}  # channel id -> ChannelState (6 = Up)
    if open_ids:
        reply = await engine.ami.action({"Action": "CoreShowChannels"}, as_list=True)
        alive = {str(m.get("Uniqueid")): str(m.get("ChannelState")) for m in
                 (reply if isinstance(reply, list) else [reply]) if m.get("Event") == "CoreShowChannel"}
    for cid in open_ids:
        engine.live[cid] = "?"
        if cid in alive:
            if alive[cid] == "6":  # up: answered, in the outbound dialplan
                engine._answered.add(cid)
                await engine.store.run(repo.attempt_answered, cid, engine.clock())
            else:
                engine._orphans.add(cid)
            continue
        # ended while nobody listened: what the dialplan noted decides
        status = await noted(engine.ami, cid)
        if status:
            await engine._finish(cid, classify_dial(status), {"dial_status": status, "recovered": True})
        else:
            await engine._finish(cid, "failed", {"lost": "服务重启时通话已不存在"})


async def noted(ami, cid: str) -> str | None:
    """The outcome the dialplan kept in AstDB for attempt `cid` (ANSWER, BUSY, ...), if any."""
    try:
        reply = await ami.action({"Action": "DBGet", "Family": NOTE_FAMILY, "Key": cid}, as_list=True)
    except (AmiError, OSError, asyncio.TimeoutError):
        return None
    for m in reply if isinstance(reply, list) else [reply]:
        value = str(m.get("Val") or "")
        if m.get("Event") == "DBGetResponse" and re.fullmatch(r"[A-Z]{1,16}", value):
            return value
    return None


async def forget_note(ami, cid: str) -> None:
    try:
        await ami.action({"Action": "DBDel", "Family": NOTE_FAMILY, "Key": cid}, as_list=False)
    except (AmiError, OSError, asyncio.TimeoutError):
        pass  # a note left behind is only read for an attempt still open
