"""`agi://…/route,<dialed>`: the merged number plan decides where this call goes.

The decision is made at call time (phases change by date with no reload) and
handed to the dialplan as HOTLINE_* channel variables, which the
`hotline-act-<action>` contexts carry out. Variables are set inheritable
(`__`) so queue and agent legs carry the line and department too.
"""
from __future__ import annotations

import logging

from ivr.agi.call import AgiCall
from ivr.agi.registry import route
from ivr.privacy import mask_number

log = logging.getLogger("ivr.agi.route")


@route("route")
async def route_call(call: AgiCall) -> None:
    services = call.context
    dialed = call.args[0] if call.args else call.headers.get("extension", "")
    caller = call.headers.get("callerid", "")
    decision = services.plan.decide(dialed, services.clock(), caller=caller)
    variables = decision.channel_vars()
    # The ticket id exists from the first second: it travels with transfers.
    variables["HOTLINE_TICKET"] = await services.new_ticket_id()
    # HOTLINE_ACTION last: until it is set the dialplan would take the fail-safe.
    action = variables.pop("HOTLINE_ACTION")
    for name, value in variables.items():
        await call.set_variable(f"__{name}", value)
    await call.set_variable("__HOTLINE_ACTION", action)
    log.info("call from %s to %s: %s/%s -> %s %s", mask_number(caller), dialed, decision.mode,
             decision.phase, decision.action, decision.target or "")
