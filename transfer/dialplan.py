"""Asterisk config for agents and transfers: the transfer legs, the return path, agent phones.

How a transfer works (docs/transfers.md has the whole story): the server
originates a *transfer leg*, a Local channel pair `Local/<agent>@hotline-xfer-leg`.
Its `;2` half answers at once, so its `;1` half joins the caller's bridge
(`hotline-xfer-join`, BridgeAdd) *before* the far end is dialed: from then on
the caller is never alone in that bridge, whatever the agent's own leg does.
`;2` then dials the far end (sub-center trunk, expert queue, 119, ...). On
answer Local-channel optimisation swaps the far channel into the caller's
bridge (three parties); on failure `;2` reports and leaves. If the agent is
gone by then, the caller is left alone, Queue() returns and the guard variable
the server set on the caller (HOTLINE_XFER_GUARD, read in hotline-queue) sends
them back to the 12345 general pool (`hotline-xfer-rescue`): the dialplan does
it, with no race against the server.
"""
from __future__ import annotations

import os

from ivr.calls.state import XFER_LEG_CONTEXT
from ivr.config.model import Config
from ivr.config.safe import comment, control_chars
from ivr.dialplan.build import destination_apps, header, rtp_options

LEG_CONTEXT = XFER_LEG_CONTEXT  # named in the call model (ivr.calls.state), which tells legs from callers
JOIN_CONTEXT = "hotline-xfer-join"
DIRECT_CONTEXT = "hotline-xfer-direct"
RETURN_CONTEXT = "hotline-xfer-return"
AGENT_CONTEXT = "hotline-agent"
# "agent1001=secret,agent1002=secret2": agent phone passwords stay out of config.yaml.
PASSWORDS_ENV = "HOTLINE_AGENT_PASSWORDS"

LEGS = r"""
[hotline-xfer-join]
; ;1 of a transfer leg: into the caller's bridge at once (three parties: caller,
; agent, this leg), so the caller's bridge survives the agent leaving while the
; far end still rings.
exten => s,1,BridgeAdd(${HOTLINE_XFER_CALLER})
 same => n,Hangup()

[hotline-xfer-leg]
; ;2 of a transfer leg (exten = the transferring agent's id): dial the far end
; with the caller's number, ticket and line. HOTLINE_XFER_DIAL (a dial string)
; or HOTLINE_XFER_QUEUE (an expert queue) and HOTLINE_XFER_TIMEOUT come from
; the server's Originate.
exten => _[0-9a-zA-Z].,1,Answer()
 same => n,Set(__HOTLINE_XFER_ID=${HOTLINE_XFER_ID})
 same => n,Set(__HOTLINE_TICKET=${IMPORT(${HOTLINE_XFER_CALLER},HOTLINE_TICKET)})
 same => n,Set(__HOTLINE_LINE=${IMPORT(${HOTLINE_XFER_CALLER},HOTLINE_LINE)})
 same => n,Set(__HOTLINE_DIALED=${IMPORT(${HOTLINE_XFER_CALLER},HOTLINE_DIALED)})
 same => n,Set(CALLERID(num)=${IMPORT(${HOTLINE_XFER_CALLER},CALLERID(num))})
 same => n,GotoIf($["${HOTLINE_XFER_QUEUE}" != ""]?queue)
 same => n,Dial(${HOTLINE_XFER_DIAL},${HOTLINE_XFER_TIMEOUT},b(hotline-dial-headers^s^1)U(hotline-xfer-answered)${HOTLINE_XFER_RING})
 same => n,Set(HOTLINE_XFER_STATUS=${DIALSTATUS})
 same => n,Goto(result)
 same => n(queue),Queue(hotline-${HOTLINE_XFER_QUEUE},${HOTLINE_XFER_RING},,,${HOTLINE_XFER_TIMEOUT},,hotline-xfer-answered)
 same => n,Set(HOTLINE_XFER_STATUS=${IF($["${QUEUESTATUS}" = ""]?ANSWER:${QUEUESTATUS})})
 same => n(result),GotoIf($["${HOTLINE_XFER_STATUS}" = "ANSWER"]?done)
 ; Failed: the leg leaves. An agent still with the caller has them back; if
 ; the agent is gone the caller is alone in the bridge, Queue() returns and
 ; HOTLINE_XFER_GUARD (set by the server on the caller) sends them to
 ; hotline-xfer-rescue: never a dropped caller.
 same => n,UserEvent(HotlineTransfer,Id: ${HOTLINE_XFER_ID},Result: failed,Status: ${HOTLINE_XFER_STATUS})
 same => n(done),Hangup()

[hotline-xfer-answered]
; Gosub on the far channel when it answers (Dial U(), Queue gosub).
exten => s,1,UserEvent(HotlineTransfer,Id: ${HOTLINE_XFER_ID},Result: answered)
 same => n,Return()

[hotline-xfer-direct]
; A caller not yet with an agent (voice menu, speech intake, queue) handed
; straight to the target, e.g. 119 when the speech layer hears a fire report.
exten => s,1,GosubIf(${DIALPLAN_EXISTS(hotline-record,s,1)}?hotline-record,s,1(direct))  ; recordings/ (only when on)
 same => n,Dial(${HOTLINE_XFER_DIAL},${HOTLINE_XFER_TIMEOUT},b(hotline-dial-headers^s^1)U(hotline-xfer-answered))
 same => n,GotoIf($["${DIALSTATUS}" = "ANSWER"]?done)
 same => n,UserEvent(HotlineTransfer,Id: ${HOTLINE_XFER_ID},Result: failed,Status: ${DIALSTATUS})
 same => n,Goto(hotline-xfer-rescue,s,1)
 same => n(done),Hangup()

[hotline-xfer-rescue]
; A transfer failed and no 12345 agent is with the caller: the general pool.
exten => s,1,Set(__HOTLINE_XFER_FAILED=1)
 same => n,Set(HOTLINE_XFER_GUARD=)
 same => n,Set(__HOTLINE_QUEUE=general)
 same => n,Set(HOTLINE_OVERFLOW=)
 same => n,Goto(hotline-queue,s,1)
"""


def _exten(name: str, steps: list[str]) -> str:
    head, *rest = steps
    return f"exten => {name},1,{head}\n" + "".join(f" same => n,{s}\n" for s in rest)


def render_return(config: Config) -> str:
    """Where retained seats (保留座席) and sub-centers send a caller back into 12345.

    The caller's channel keeps HOTLINE_LINE: a line with expert seats gets them
    first (with their overflow), any other call the general pool.
    """
    out = [f"\n[{RETURN_CONTEXT}]\n",
           "; Blind transfer / SIP REFER back from a department's own seats or a sub-center.\n",
           "; TRANSFER_CONTEXT on every outgoing trunk leg (hotline-dial-headers) points here.\n"]
    steps = ["Set(__HOTLINE_RETURNED=${IF($[\"${HOTLINE_LINE}\" = \"\"]?12345:${HOTLINE_LINE})})",
             "UserEvent(HotlineReturned,Line: ${HOTLINE_LINE},Number: ${EXTEN})",
             f"GotoIf(${{DIALPLAN_EXISTS({RETURN_CONTEXT}-line,${{HOTLINE_LINE}},1)}}?{RETURN_CONTEXT}-line,${{HOTLINE_LINE}},1)",
             *destination_apps("queue:general", config)]
    out.append(_exten("_X.", steps))
    out.append(_exten("s", [f"Goto({RETURN_CONTEXT},12345,1)"]))
    out.append(f"\n[{RETURN_CONTEXT}-line]\n; Lines with expert seats (专家座席): back to those seats first.\n")
    for line in config.lines:
        if line.queue and config.queue(line.queue):
            out.append(comment(line.name))
            out.append(_exten(line.id, destination_apps(f"queue:{line.queue}", config)))
    return "".join(out)


def agent_ids(config: Config) -> list[str]:
    """Agents with a PJSIP phone: every `PJSIP/<id>` queue member, in config order."""
    seen: dict[str, None] = {}
    for queue in config.queues:
        for member in queue.members:
            tech, _, name = member.partition("/")
            if tech.upper() == "PJSIP" and name and "@" not in name and "/" not in name:
                seen.setdefault(name, None)
    return list(seen)


def _passwords(env: dict[str, str]) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in env.get(PASSWORDS_ENV, "").split(",") if "=" in item)
    # A password that could end its line in the auth file is no password.
    return {k.strip(): v.strip() for k, v in pairs if k.strip() and v.strip() and not control_chars(v)}


def render_agents(config: Config, source: str = "config.yaml") -> str:
    """One PJSIP endpoint per agent phone; phones register as the agent id.

    Each endpoint requires `<id>-auth`, whose password is not in this (committed,
    secret-free) file but in pjsip_agents_auth.conf (`hotline agents auth-file`):
    without it nobody can register as that agent.
    """
    out = [header(source),
           "; 12345 agents' phones (座席话机), one per PJSIP queue member.\n"]
    rtp = rtp_options(config)
    browser = set(config.webrtc.agents)  # seats hook: browser seats are rendered by ivr/seats/asterisk.py
    for aid in agent_ids(config):
        if aid in browser:
            continue
        auth = f"auth = {aid}-auth\n"
        out.append(f"""
[{aid}]
type = aor
max_contacts = 1
remove_existing = yes
qualify_frequency = 30

[{aid}]
type = endpoint
context = {AGENT_CONTEXT}
aors = {aid}
{auth}callerid = {aid} <{aid}>
disallow = all
allow = ulaw,alaw
direct_media = no
rtp_symmetric = yes
force_rport = yes
rewrite_contact = yes
dtmf_mode = rfc4733
{rtp}""")
    return "".join(out)


def render_agent_auth(config: Config, env: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """pjsip_agents_auth.conf from $HOTLINE_AGENT_PASSWORDS, and the agents still without a password."""
    passwords = _passwords(dict(os.environ) if env is None else env)
    out = ["; Agent phone passwords (from $HOTLINE_AGENT_PASSWORDS). Secret: keep it root-only, never commit it.\n"]
    missing = []
    for aid in agent_ids(config):
        if aid not in passwords:
            missing.append(aid)
            continue
        out.append(f"\n[{aid}-auth]\ntype = auth\nauth_type = userpass\nusername = {aid}\npassword = {passwords[aid]}\n")
    return "".join(out), missing


def render_extensions(config: Config, source: str = "config.yaml") -> str:
    out = [header(source), LEGS, render_return(config)]
    out.append(f"\n[{AGENT_CONTEXT}]\n; What an agent's phone dials: the plan, as any caller would reach it\n"
               "; (sub-center numbers, emergency lines, the 12345 pool).\n")
    out.append(_exten("_X.", ["Goto(hotline-inbound,${EXTEN},1)"]))
    return "".join(out)


def render(config: Config, source: str = "config.yaml") -> dict[str, str]:
    """Generated files for the center, by name (extensions_*, queues_*, pjsip_*)."""
    files = {"extensions_transfer.conf": render_extensions(config, source)}
    if agent_ids(config):
        files["pjsip_agents.conf"] = render_agents(config, source)
    return files
