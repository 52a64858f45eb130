"""After an AMI reconnect, end the calls Asterisk no longer has (`CoreShowChannels`).

While the AMI connection is down every event is lost, the Hangups too: without
this, a call hung up meanwhile stayed on the agent's console, on the
supervisor board and open in the reports for good. After each login the
tracker asks Asterisk for its channels; a channel the tracker followed before
asking that is not in the answer is gone, and gets a Hangup of its own
(cause 0, "ended while AMI was disconnected") in the tracker's queue, in turn
with the real events: consoles are told and the record is closed as for any
hangup. Channels that appear later are not touched.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

log = logging.getLogger("ivr.ami.reconcile")

GONE_CAUSE = "0"
GONE_TEXT = "ended while AMI was disconnected"


def live_channels(answer: Any) -> set[str] | None:
    """Uniqueids in a CoreShowChannels answer (list of messages); None if it is not a complete answer."""
    if not isinstance(answer, (list, tuple)):
        return None
    events = [m for m in answer if hasattr(m, "get")]
    if not any(str(m.get("Event", "")) == "CoreShowChannelsComplete" for m in events):
        return None
    if any(str(m.get("Response", "")).lower() == "error" for m in events):
        return None
    return {str(m.get("Uniqueid")) for m in events
            if str(m.get("Event", "")) == "CoreShowChannel" and m.get("Uniqueid")}


def vanished(known: Mapping[str, tuple[str, str]], live: Iterable[str]) -> list[dict[str, str]]:
    """Hangup events for the channels in `known` (uniqueid -> (linkedid, name)) that are not `live`."""
    live = set(live)
    return [{"Event": "Hangup", "Uniqueid": uid, "Linkedid": lid, "Channel": name,
             "Cause": GONE_CAUSE, "Cause-txt": GONE_TEXT}
            for uid, (lid, name) in known.items() if uid not in live]


async def reconcile(tracker: Any, ami: Any) -> int:
    """Hang up, in the tracker, the channels Asterisk no longer has; how many. Errors: logged, 0."""
    try:
        await tracker.drain()  # what the old session told us is applied first
        known = {uid: (call.linkedid, name) for call in list(tracker.calls.values())
                 for uid, name in call.channels.items()}
        if not known:
            return 0
        live = live_channels(await ami.action({"Action": "CoreShowChannels"}, as_list=True))
    except Exception as exc:  # AMI gone again, or slow: the next login tries again
        log.warning("reconcile after AMI login skipped: %s", exc)
        return 0
    if live is None:
        log.warning("reconcile after AMI login skipped: no complete CoreShowChannels answer")
        return 0
    gone = vanished(known, live)
    for event in gone:
        tracker.feed(event)
    if gone:
        log.warning("AMI reconnect: %d channel(s) of %d call(s) ended while disconnected",
                    len(gone), len({e["Linkedid"] for e in gone}))
    return len(gone)
