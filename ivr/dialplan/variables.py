"""Every HOTLINE_* dialplan variable, by name, in one place (as wazo-agid's dialplan_variables.py).

The route sets them, the generated dialplan reads them, the call tracker,
transfers and callbacks read or set them over AMI: a name spelt two ways is
a variable nobody reads. Python code uses these constants; the dialplan
texts (ivr/dialplan/templates.py, transfer/dialplan.py, callbacks/dialplan.py)
spell the names out, and tests/dialplan/test_dialplan_variables.py renders
both reference cities' dialplans and checks they use only names from here,
and that every name here is used. agi_scripts/transcribe.py runs on its own
inside Asterisk and spells HOTLINE_INTAKE out: the same test checks it too.

`__NAME` makes a variable inheritable (it follows the call to queue and agent
legs): `inherited(LINE)`.
"""
from __future__ import annotations

# -- the route's decision (ivr.plan.decision.Decision.channel_vars; hotline-act-* contexts)
DIALED = "HOTLINE_DIALED"            # the number the caller dialed (an old line number, after a merge)
LINE = "HOTLINE_LINE"                # the line's id, empty for 12345 itself
DEPARTMENT = "HOTLINE_DEPARTMENT"    # the line's department, for the agent's screen
MODE = "HOTLINE_MODE"                # main / dual_number / full_merge / emergency
PHASE = "HOTLINE_PHASE"              # the merge's phase on the day of the call
ACTION = "HOTLINE_ACTION"            # what the dialplan does: set last (until then: the fail-safe)
TARGET = "HOTLINE_TARGET"            # the destination, as the plan names it
DIAL = "HOTLINE_DIAL"                # a dial string, for forwards
PROMPT = "HOTLINE_PROMPT"            # the sound played first
SKIP_KEY = "HOTLINE_SKIP_KEY"        # the key that skips it
QUEUE = "HOTLINE_QUEUE"              # the queue's id
OVERFLOW = "HOTLINE_OVERFLOW"        # "<queue>,<seconds>": where waiting callers go next
TICKET = "HOTLINE_TICKET"            # the call's ticket id, from the first second
INTAKE = "HOTLINE_INTAKE"            # "<live server>,<seconds>,<nonce>": state your matter first
FALLBACK = "HOTLINE_FALLBACK"        # "1": the route failed, the caller went to the general queue
MENU = "HOTLINE_MENU"                # the menu key the caller pressed
TAGS = "HOTLINE_TAGS"                # fast tracks, only when set: "enterprise", "language:<id>" (ivr/plan/fasttrack.py)
PRIORITY = "HOTLINE_PRIORITY"        # the caller's QUEUE_PRIO, only when set ("" = 0)

# -- set by the dialplan as the call goes (the tracker and `hotline call` read them)
PROMPT_SKIPPED = "HOTLINE_PROMPT_SKIPPED"
QUEUE_JOINED = "HOTLINE_QUEUE_JOINED"
OVERFLOWED = "HOTLINE_OVERFLOWED"
FORWARD_FAILED = "HOTLINE_FORWARD_FAILED"
RETURNED = "HOTLINE_RETURNED"        # a sub-center sent the caller back (transfer/dialplan.py)

# -- transfers (transfer/legs.py sets them on the legs it originates; transfer/dialplan.py)
XFER_ID = "HOTLINE_XFER_ID"
XFER_CALLER = "HOTLINE_XFER_CALLER"
XFER_AGENT = "HOTLINE_XFER_AGENT"
XFER_DIAL = "HOTLINE_XFER_DIAL"
XFER_QUEUE = "HOTLINE_XFER_QUEUE"
XFER_TIMEOUT = "HOTLINE_XFER_TIMEOUT"
XFER_RING = "HOTLINE_XFER_RING"
XFER_STATUS = "HOTLINE_XFER_STATUS"
XFER_GUARD = "HOTLINE_XFER_GUARD"    # on the caller: left alone in the bridge, back to the pool
XFER_FAILED = "HOTLINE_XFER_FAILED"

# -- callbacks (callbacks/engine.py originates with them; callbacks/dialplan.py)
CALLBACK = "HOTLINE_CALLBACK"        # "missed": a missed call to call back
CB_ID = "HOTLINE_CB_ID"
CB_TASK = "HOTLINE_CB_TASK"
CB_DIGIT = "HOTLINE_CB_DIGIT"
CB_TRIES = "HOTLINE_CB_TRIES"
CB_SURVEY = "HOTLINE_CB_SURVEY"      # the 回访 campaign a survey call asks (callbacks.campaigns)
CB_AGENT = "HOTLINE_CB_AGENT"        # a clicked 回拨: the clicking agent's interface (callbacks/originate.py)
CB_REDO = "HOTLINE_CB_REDO"          # "1": an answer asked for 重办, the agent offer follows (offer_agent)
RATE = "HOTLINE_RATE"                # 一次一评: the key the caller pressed after the agent hung up
RATE_TRIES = "HOTLINE_RATE_TRIES"
# 排队回电 (queue callback, callbacks/vhold.py): the stand-in channel that keeps a caller's place
QCB_QUEUE = "HOTLINE_QCB_QUEUE"      # the queue whose place is kept
QCB_POS = "HOTLINE_QCB_POS"          # the position the caller left
QCB_CALLER = "HOTLINE_QCB_CALLER"    # the citizen's number (the pop shows it)
QCB_HOLD = "HOTLINE_QCB_HOLD"        # seconds the place is kept
QCB_DIAL = "HOTLINE_QCB_DIAL"        # the dial string to the citizen, over the trunk
QCB_RING = "HOTLINE_QCB_RING"        # ring timeout for the citizen leg
QCB_CID = "HOTLINE_QCB_CID"          # caller ID shown to the citizen (12345)
# spoken survey answers (callbacks/dialplan_flows.py SPEAK; callbacks/spoken_service.py)
SPOKEN = "HOTLINE_SPOKEN"            # the question whose clip is being recorded (reported once)
SPOKEN_H = "HOTLINE_SPOKEN_H"        # "1": the hangup handler that reports a clip is pushed

# -- browser seats (ivr/seats/asterisk.py [hotline-seat-call])
CALL_NAMED = "HOTLINE_CALL_NAMED"    # "1": X-Hotline-Call (the linkedid) is set for the queue members' INVITEs

# -- supervision (supervision/spy.py sets it on the supervisor's phone leg; supervision/dialplan.py)
SPY_CHANNEL = "HOTLINE_SPY_CHANNEL"  # the agent's channel to ChanSpy on

# -- the diag route (ivr/agi/handlers/diag.py)
DIAG = "HOTLINE_DIAG"
DIAG_ARG = "HOTLINE_DIAG_ARG"

# -- test calls (`hotline call`, ivr/calltest.py; the extensions_sim.conf contexts)
TEST_TAG = "HOTLINE_TEST_TAG"
TEST_HOLD = "HOTLINE_TEST_HOLD"
TEST_DTMF = "HOTLINE_TEST_DTMF"
TEST_DTMF_AFTER = "HOTLINE_TEST_DTMF_AFTER"
TEST_SAY = "HOTLINE_TEST_SAY"
TEST_SAY_AFTER = "HOTLINE_TEST_SAY_AFTER"
TEST_PREFIX = "HOTLINE_TEST_"

# -- the instance's [globals] (ivr/asterisk/confgen.py)
AGI = "HOTLINE_AGI"                  # agi://host:port of the FastAGI server
INSTANCE = "HOTLINE_INSTANCE"
SOUNDS = "HOTLINE_SOUNDS"
RECORDINGS = "HOTLINE_RECORDINGS"

PREFIX = "HOTLINE_"

NAMES: frozenset[str] = frozenset(
    value for key, value in dict(globals()).items()
    if key.isupper() and isinstance(value, str) and key not in ("PREFIX", "TEST_PREFIX")
)


def inherited(name: str) -> str:
    """`__NAME`: set so, a variable follows the call to the channels it creates."""
    return f"__{name}"
