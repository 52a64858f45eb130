"""The safe fallback: when a route is unknown or fails, the caller goes to the 12345 general queue.

A caller is never dropped because our code broke. The generated dialplan reads
these variables after AGI() returns, exactly as for a normal routing decision;
if even this fails (Asterisk gone, connection broken), HOTLINE_ACTION stays
empty and the dialplan sends the caller to the general queue on its own.
"""
from __future__ import annotations

import logging

from ivr.agi.call import AgiCall, AgiError
from ivr.agi.context import RouteContext
from ivr.dialplan import variables as V

log = logging.getLogger("ivr.agi")

# HOTLINE_ACTION goes last: until it is set the dialplan already falls back by
# itself, so a fallback cut short never leaves a half-made decision behind.
FALLBACK_VARIABLES: tuple[tuple[str, str], ...] = (
    (V.TARGET, "queue:general"),
    (V.QUEUE, "general"),
    (V.FALLBACK, "1"),
    (V.ACTION, "queue"),
)

# After a failure Asterisk may be slow or wedged: do not keep the caller
# waiting in silence for several full command timeouts.
FALLBACK_COMMAND_TIMEOUT = 2.0


async def send_to_fallback(call: AgiCall, reason: str) -> bool:
    """Set the fallback variables on the channel; True if all were acknowledged."""
    if call.hung_up:
        return False
    timeout = min(call.command_timeout, FALLBACK_COMMAND_TIMEOUT)
    try:
        for name, value in FALLBACK_VARIABLES:
            await call.set_variable(name, value, timeout=timeout)
    except AgiError as exc:
        log.warning("fallback could not be set (%s; the dialplan's own fallback applies): %s %s",
                    exc, reason, call.describe())
        return False
    log.info("call sent to the general queue fallback (%s): %s", reason, call.describe())
    dialed = call.args[0] if call.args else call.headers.get("extension", "")
    tell_tracker(call, {V.DIALED: dialed, **dict(FALLBACK_VARIABLES)})
    return True


def tell_tracker(call: AgiCall, variables: dict[str, str]) -> None:
    """Hand variables just set on a `route` call to the route context's sink (the call tracker), if any.

    The server's AMI session skips VarSet events of the routing context; the
    call's linkedid comes as the route's second argument (CHANNEL(linkedid)),
    with the request's own channel (agi_uniqueid): the tracker takes the values
    only if that channel belongs to that call (a peer naming another call's
    linkedid changes nothing)."""
    sink = call.context.sink if isinstance(call.context, RouteContext) else None
    if sink is not None and call.route == "route" and len(call.args) > 1 and call.args[1]:
        sink.routed(call.args[1], variables, call.headers.get("uniqueid") or None)
