"""extensions_supervision.conf: the `hotline-supervise` context the supervisor's phone lands in.

One extension per mode with its ChanSpy options fixed here; the only variable is
HOTLINE_SPY_CHANNEL, which the server set on the originated channel after
checking it against supervision.spy.CHANNEL_RE, and which the dialplan checks
again (REGEX) before ChanSpy sees it.
"""
from __future__ import annotations

from ivr.config.model import Config
from ivr.dialplan.build import header
from supervision.spy import CONTEXT, MODES

CHECK = r"^(PJSIP/[A-Za-z0-9_-]+-[0-9a-f]{8}|Local/[A-Za-z0-9_-]+@[A-Za-z0-9_-]+-[0-9a-f]{8}\;1)$"  # \; : a bare ; starts a comment


def render(config: Config, source: str = "config.yaml") -> dict[str, str]:
    out = [header(source), f"\n[{CONTEXT}]\n"]
    for mode, options in MODES.items():
        # d: keys 4/5/6 switch listen/whisper/barge; E: leave when the agent's leg hangs up.
        out.append(f"exten => {mode},1,NoOp(supervision {mode})\n"
                   f" same => n,GotoIf($[${{REGEX(\"{CHECK}\" ${{HOTLINE_SPY_CHANNEL}})}}]?ok)\n"
                   f" same => n,Hangup()\n"
                   f" same => n(ok),Answer()\n"
                   f" same => n,UserEvent(HotlineSupervise,Mode: {mode},Spied: ${{HOTLINE_SPY_CHANNEL}})\n"
                   f" same => n,ChanSpy(${{HOTLINE_SPY_CHANNEL}},{options}dE)\n"
                   f" same => n,Hangup()\n")
    return {"extensions_supervision.conf": "".join(out)}
