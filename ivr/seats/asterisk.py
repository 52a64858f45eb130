"""Asterisk config for browser seats: the HTTP server, the WS/WSS transports, WebRTC endpoints.

A browser seat is an agent (a `PJSIP/<id>` queue member listed in
`webrtc.agents`) whose phone is the console page: JsSIP registers over a
WebSocket served by Asterisk's built-in HTTP server (res_http_websocket +
res_pjsip_transport_websocket) and the media is DTLS-SRTP with ICE
(`webrtc = yes`). Desk-phone agents keep the plain endpoints rendered by
transfer/dialplan.py (which skips the agents rendered here); both kinds
authenticate with the same `<id>-auth` section from $HOTLINE_AGENT_PASSWORDS.

Without http.conf Asterisk's HTTP server stays off and the websocket
transport has nothing to ride on, silently: so http.conf is always rendered
when there is at least one browser seat.
"""
from __future__ import annotations

from ivr.config.model import Config
from ivr.dialplan.build import header, rtp_options
from ivr.seats.httpconf import OURS, stub

AGENT_CONTEXT = "hotline-agent"  # same context as the desk phones (transfer/dialplan.py)


def browser_agents(config: Config) -> list[str]:
    """Agents of `webrtc.agents` that are PJSIP queue members, in the order given."""
    members = {m.partition("/")[2] for q in config.queues for m in q.members if m.upper().startswith("PJSIP/")}
    return [a for a in config.webrtc.agents if a in members]


def ws_url(config: Config) -> str:
    w = config.webrtc
    if w.ws_url:
        return w.ws_url
    if w.tls_port:
        return f"wss://{w.http_host}:{w.tls_port}/ws"
    return f"ws://{w.http_host}:{w.http_port}/ws"


def render_http(config: Config, source: str = "config.yaml", port: int | None = None) -> str:
    w = config.webrtc
    out = [header(source),
           "; Asterisk's HTTP server only carries the SIP websocket (/ws) for browser seats.\n",
           "[general]\nenabled = yes\n", f"bindaddr = {w.http_host}\n", f"bindport = {port or w.http_port}\n",
           "sessionlimit = 400\nsession_inactivity = 30000\nsession_keep_alive = 15000\n"]
    if w.tls_port:
        out.append(f"tlsenable = yes\ntlsbindaddr = {w.http_host}:{w.tls_port}\n"
                   f"tlscertfile = {w.tls_cert}\ntlsprivatekey = {w.tls_key}\n")
    return "".join(out)


def render_pjsip(config: Config, source: str = "config.yaml") -> str:
    w = config.webrtc
    out = [header(source),
           "; SIP over WebSocket (the browser seats' phones). bind is ignored for ws/wss:\n"
           "; they ride on the HTTP server of http.conf.\n",
           "\n[transport-ws]\ntype = transport\nprotocol = ws\nbind = 127.0.0.1\n"]
    if w.tls_port:
        out.append("\n[transport-wss]\ntype = transport\nprotocol = wss\nbind = 127.0.0.1\n")
    for aid in browser_agents(config):
        out.append(f"""
; browser seat {aid}
[{aid}]
type = aor
max_contacts = 1
remove_existing = yes
qualify_frequency = 20

[{aid}]
type = endpoint
context = {AGENT_CONTEXT}
aors = {aid}
auth = {aid}-auth
callerid = {aid} <{aid}>
webrtc = yes
dtls_auto_generate_cert = yes
disallow = all
allow = opus,ulaw,alaw
dtmf_mode = rfc4733
direct_media = no
""" + rtp_options(config))
    return "".join(out)


REATTACH_EXTEN = "reattach"
CALL_HEADER = "X-Hotline-Call"  # the INVITE to a seat names its call (= the pop's call_id, the linkedid)
CALL_CONTEXT = "hotline-seat-call"  # hotline-queue Gosubs here before Queue() when it exists


CALL_NAMING = f"""
[{CALL_CONTEXT}]
; The caller's channel, before Queue(): every INVITE to a queue member carries
; {CALL_HEADER}: <linkedid>, the call_id of the screen-pop, so the browser seat shows
; the pop of the call that rings (phone.js, ringpop.js). Asterisk's own linkedid,
; filtered to digits and dots; set once per channel (the header is inherited).
exten => s,1,GotoIf($["${{HOTLINE_CALL_NAMED}}" != ""]?done)
 same => n,Set(HOTLINE_CALL_NAMED=1)
 same => n,Set(PJSIP_INHERITABLE_HEADER(add,{CALL_HEADER})=${{FILTER(0-9.,${{CHANNEL(linkedid)}})}})
 same => n(done),Return()
"""


def render_extensions(source: str = "config.yaml") -> str:
    """The extension a reloaded page dials to take its call back (phone.js).

    Asterisk checks the dialed extension exists before it looks at `Replaces:`;
    with a valid Replaces the new call takes the old leg's place in the
    caller's bridge and this dialplan never runs. Without one it hangs up.
    (pbx_config merges this [hotline-agent] with transfer/dialplan.py's.)
    Also [hotline-seat-call]: the header naming the call on the seats' INVITEs."""
    return (header(source) + f"\n[{AGENT_CONTEXT}]\n; a browser seat re-attaching its call after a page reload\n"
            f"exten => {REATTACH_EXTEN},1,Hangup(21)\n" + CALL_NAMING)


def render(config: Config, source: str = "config.yaml") -> dict[str, str]:
    """http_hotline.conf (+ the http.conf stub including it: ivr/seats/httpconf.py), pjsip_seats.conf
    and extensions_seats.conf when there are browser seats; nothing otherwise."""
    if not browser_agents(config):
        return {}
    return {OURS: render_http(config, source), "http.conf": stub(), "pjsip_seats.conf": render_pjsip(config, source),
            "extensions_seats.conf": render_extensions(source)}
