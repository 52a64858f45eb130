"""`agi://…/route,<dialed>`: the merged number plan decides where this call goes.

The decision is made at call time (phases change by date with no reload) and
handed to the dialplan as HOTLINE_* channel variables, which the
`hotline-act-<action>` contexts carry out. Variables are set inheritable
(`__`) so queue and agent legs carry the line and department too.

All variables go in one AGI command: `EXEC MSet(name=value,…)` sets them in
order, exactly as one `SET VARIABLE` each would (same values, same VarSet
events), but a round trip per variable was most of the routed call's cost
(benchmarks/routing.py). A set too long for one AGI line is split over
several MSets; HOTLINE_ACTION is always the last variable of the last one,
which is sent without waiting for its reply (AgiCall.send_last).

The second argument is the call's linkedid: the same variables go to the call
tracker in-process (CallTracker.routed), as the server's AMI session does not
carry this context's VarSet events.
"""
from __future__ import annotations

import logging
import re
import secrets

from ivr.agi.call import AgiCall
from ivr.agi.context import RouteContext
from ivr.agi.fallback import tell_tracker
from ivr.agi.protocol import MAX_COMMAND_BYTES, quote
from ivr.agi.registry import route
from ivr.dialplan import variables as V
from ivr.privacy import mask_number

log = logging.getLogger("ivr.agi.route")

# MSet splits its argument on "," and counts ( ) [ ] even inside quotes;
# a backslash makes the next character literal (and is removed).
_MSET_SPECIAL = re.compile(r'([\\",()\[\]])')
_MSET_SPECIAL_CHARS = frozenset('\\",()[]')
_MSET_MAX_PAIRS = 24  # pbx_builtin_setvar_multiple's argument array


def _mset_escape(value: str) -> str:
    return _MSET_SPECIAL.sub(r"\\\1", value) if not _MSET_SPECIAL_CHARS.isdisjoint(value) else value


def mset_arguments(variables: dict[str, str]) -> list[str]:
    """MSet argument strings setting `variables` in order, each fitting one AGI command line."""
    pairs = [f"{name}={_mset_escape(str(value))}" for name, value in variables.items()]
    joined = ",".join(pairs)
    if len(pairs) <= _MSET_MAX_PAIRS and _MSET_LINE + _quoted_bytes(joined) <= MAX_COMMAND_BYTES:
        return [joined] if pairs else []  # the usual case: one command
    chunks: list[list[str]] = [[]]
    size = _MSET_LINE
    for pair in pairs:
        cost = _quoted_bytes(pair) + (1 if chunks[-1] else 0)  # and its comma
        if chunks[-1] and (size + cost > MAX_COMMAND_BYTES or len(chunks[-1]) >= _MSET_MAX_PAIRS):
            chunks.append([])
            size = _MSET_LINE
            cost -= 1
        chunks[-1].append(pair)
        size += cost
    return [",".join(chunk) for chunk in chunks if chunk]


_MSET_LINE = len(b'EXEC MSet ""\n')  # the command line around its quoted argument


def _quoted_bytes(text: str) -> int:
    """Bytes `text` takes once quote()d: an escaped pair has no '"' or '\\' left
    unescaped, so quote() adds exactly one backslash before each."""
    return len(text.encode()) + text.count('"') + text.count("\\")


def route_mset(variables: dict[str, str]) -> list[str]:
    """The route's MSet arguments: every variable inheritable (`__`), HOTLINE_ACTION
    last (until it is set the dialplan would take the fail-safe)."""
    ordered = {V.inherited(name): value for name, value in variables.items() if name != V.ACTION}
    ordered[V.inherited(V.ACTION)] = variables[V.ACTION]
    return mset_arguments(ordered)


@route("route")
async def route_call(call: AgiCall) -> None:
    context: RouteContext = call.context
    dialed = call.args[0] if call.args else call.headers.get("extension", "")
    caller = call.headers.get("callerid", "")
    decision = context.plan.decide(dialed, context.clock(), caller=caller)
    variables = decision.channel_vars()
    # The ticket id exists from the first second: it travels with transfers.
    variables[V.TICKET] = await context.new_ticket_id()
    intake = _intake(context, decision)
    if intake:  # the dialplan treats unset like empty: one variable less on most calls
        variables[V.INTAKE] = intake
    *first, last = route_mset(variables)
    for args in first:
        await call.exec("MSet", args)
    call.send_last(f"EXEC MSet {quote(last)}")
    tell_tracker(call, variables)
    # The server's tracker logs the route at INFO (ivr.calls.tracker): not here, on the call's path.
    if log.isEnabledFor(logging.DEBUG):
        log.debug("call from %s to %s: %s/%s -> %s %s", mask_number(caller), dialed, decision.mode,
                  decision.phase, decision.action, decision.target or "")


def _intake(context: RouteContext, decision) -> str:
    """`<live server>,<seconds>,<nonce>` when the caller should state their matter first, else "".

    The nonce (unguessable, one per call) is what agi_scripts/transcribe.py
    must show the live-transcription server: it accepts a stream for this call
    only with it, once, while the call is in intake (docs/security.md)."""
    if context.intake is None or not context.config.hotline.entry.speech_intake:
        return ""
    if decision.action not in ("queue", "prompt_then_forward"):
        return ""
    return f"{context.intake},{context.config.speech.intake_seconds},{secrets.token_urlsafe(16)}"
