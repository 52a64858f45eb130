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
from ivr.ami.client import AmiError

NOTE_FAMILY = "hotline_cb"  # AstDB: the dialplan's note of an attempt's outcome (dialplan_flows.ANSWERED)


async def open_attempts(store, ami) -> list[tuple[str, str | None, str | None]]:
    """(attempt id, its channel's state if still alive (6 = Up), the outcome the dialplan noted
    if it is gone) for every attempt a previous process left open; the engine acts on them."""
    open_ids = await store.run(repo.unfinished_attempts)
    alive: dict[str, str] = {}  # channel id -> ChannelState
    if open_ids:
        reply = await ami.action({"Action": "CoreShowChannels"}, as_list=True)
        alive = {str(m.get("Uniqueid")): str(m.get("ChannelState")) for m in
                 (reply if isinstance(reply, list) else [reply]) if m.get("Event") == "CoreShowChannel"}
    return [(cid, alive[cid], None) if cid in alive else (cid, None, await noted(ami, cid)) for cid in open_ids]


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
