"""Fixed parts of the generated config: the action contexts and PJSIP pieces.

The `route` FastAGI handler sets HOTLINE_ACTION (see docs/ARCHITECTURE.md);
`hotline-act-<action>` carries it out. Every path that cannot complete ends
in `hotline-failsafe`, which puts the caller in the 12345 general queue.
"""

ROUTE_CONTEXT = "hotline-route"  # where the plan decides (its VarSets reach the tracker in-process)

ROUTE_PREAMBLE = r"""
[hotline-route]
; Ask the plan (FastAGI route) what to do with this call, then do it.
; Server unreachable or no usable answer: the fail-safe, never a dropped call.
; (Few steps on purpose: each one costs Asterisk an event per AMI session.)
exten => _X.,1,MSet(__HOTLINE_DIALED=${EXTEN},HOTLINE_ACTION=)
 same => n,AGI(${HOTLINE_AGI}/route,${EXTEN},${CHANNEL(linkedid)})
 same => n,GotoIf($["${AGISTATUS}" = "SUCCESS" & ${DIALPLAN_EXISTS(hotline-act-${HOTLINE_ACTION},s,1)}]?hotline-act-${HOTLINE_ACTION},s,1)
 same => n,Goto(hotline-failsafe,s,1)

[hotline-failsafe]
; The 12345 general queue, with no help from the server.
; HOTLINE_DIALED again: the server's own AMI session skips variables set in
; hotline-route (the route handler reports those itself).
exten => s,1,Set(__HOTLINE_DIALED=${HOTLINE_DIALED})
 same => n,Set(__HOTLINE_FALLBACK=1)
 same => n,Set(__HOTLINE_QUEUE=general)
 same => n,Set(HOTLINE_OVERFLOW=)
 same => n,Goto(hotline-queue,s,1)

[hotline-queue]
; Into HOTLINE_QUEUE. An expert queue (HOTLINE_OVERFLOW=<queue>,<seconds>)
; overflows to its pool after its wait, or at once when no expert is there.
; QUEUESTATUS CONTINUE: the caller was connected and the agent hung up (option c).
exten => s,1,GotoIf($["${HOTLINE_INTAKE}" = ""]?join)
 same => n,Gosub(hotline-intake,s,1)
 same => n(join),Set(__HOTLINE_QUEUE_JOINED=${EPOCH})
 ; 一企来: a higher QUEUE_PRIO waits ahead of every lower one (HOTLINE_PRIORITY, ivr/plan/fasttrack.py)
 same => n,Set(QUEUE_PRIO=${IF($["${HOTLINE_PRIORITY}" = ""]?0:${HOTLINE_PRIORITY})})
 same => n,GosubIf(${DIALPLAN_EXISTS(hotline-record,s,1)}?hotline-record,s,1(queue))  ; recordings/ (only when on)
 same => n,GosubIf(${DIALPLAN_EXISTS(hotline-seat-call,s,1)}?hotline-seat-call,s,1)  ; INVITEs name the call (ivr/seats/asterisk.py)
 same => n,GotoIf($["${HOTLINE_OVERFLOW}" = ""]?last)
 same => n,Queue(hotline-${HOTLINE_QUEUE},trc,,,${CUT(HOTLINE_OVERFLOW,\,,2)})
 same => n,GotoIf(${REGEX("^(CONTINUE)?$" ${QUEUESTATUS})}?done)
 same => n,Set(__HOTLINE_OVERFLOWED=${HOTLINE_QUEUE})
 same => n,Set(__HOTLINE_QUEUE=${CUT(HOTLINE_OVERFLOW,\,,1)})
 same => n(last),Queue(hotline-${HOTLINE_QUEUE},trc)
 same => n,GotoIf($[${REGEX("^(CONTINUE)?$" ${QUEUESTATUS})} | "${HOTLINE_QUEUE}" = "general"]?done)
 same => n,Set(__HOTLINE_QUEUE=general)
 same => n,Goto(last)
 ; Option c: the caller comes back here when the agent's side ends. Left alone in
 ; the bridge during a transfer (agent and transfer leg both gone) they go back
 ; to the pool instead of being hung up (see transfer/dialplan.py).
 same => n(done),GotoIf($["${HOTLINE_XFER_GUARD}" != ""]?hotline-xfer-rescue,s,1)
 same => n,GotoIf(${DIALPLAN_EXISTS(hotline-rating,s,1)}?hotline-rating,s,1)  ; 一次一评 (callbacks/dialplan_flows.py)
 same => n,Hangup()

[hotline-intake]
; "Please state your matter": the caller's words go live to Vosk (EAGI) and
; reach the agent's pop and ticket draft. HOTLINE_INTAKE=<live server>,<seconds>.
exten => s,1,Answer()
 same => n,Playback(hotline/intake&beep)
 same => n,EAGI(transcribe.py,${CUT(HOTLINE_INTAKE,\,,1)},${CHANNEL(linkedid)},${CUT(HOTLINE_INTAKE,\,,2)})
 same => n,Set(HOTLINE_INTAKE=)
 same => n,Return()

[hotline-dial-headers]
; Pre-dial handler on outgoing PJSIP legs: the line and ticket travel with the call.
; A department's seats or a sub-center that transfers the caller back (REFER,
; blind transfer) lands in hotline-xfer-return, which keeps the line tag.
exten => s,1,Set(TRANSFER_CONTEXT=hotline-xfer-return)
 same => n,GotoIf($["${CHANNEL(channeltype)}" != "PJSIP"]?done)
 same => n,Set(PJSIP_HEADER(add,X-Hotline-Line)=${HOTLINE_LINE})
 same => n,Set(PJSIP_HEADER(add,X-Hotline-Ticket)=${HOTLINE_TICKET})
 same => n,Set(PJSIP_HEADER(add,X-Hotline-Dialed)=${HOTLINE_DIALED})
 same => n(done),Return()

"""

ACTIONS = r"""
[hotline-act-queue]
exten => s,1,GotoIf($["${HOTLINE_PROMPT}" = ""]?go)
 same => n,Answer()
 same => n,Playback(${HOTLINE_PROMPT})
 same => n(go),Goto(hotline-queue,s,1)

[hotline-act-prompt_then_forward]
; 整体并入, transition: the merge prompt, then 12345 (呼叫转移至12345).
; HOTLINE_SKIP_KEY stops the prompt and connects at once.
exten => s,1,Answer()
 same => n,GotoIf($["${HOTLINE_SKIP_KEY}" = ""]?play)
 same => n,ControlPlayback(${HOTLINE_PROMPT},,A,B,${HOTLINE_SKIP_KEY})
 same => n,Set(__HOTLINE_PROMPT_SKIPPED=${IF($["${CPLAYBACKSTATUS}" = "USERSTOPPED"]?1:0)})
 same => n,Goto(fwd)
 same => n(play),Playback(${HOTLINE_PROMPT})
 same => n(fwd),GotoIf($["${HOTLINE_QUEUE}" != ""]?hotline-queue,s,1)
 same => n,GotoIf($["${HOTLINE_DIAL}" != ""]?hotline-act-forward,s,dial)
 same => n,Goto(hotline-failsafe,s,1)

[hotline-act-prompt_then_hangup]
; 整体并入, transition, configured to end the call after the prompt.
exten => s,1,Answer()
 same => n,Playback(${HOTLINE_PROMPT})
 same => n,Hangup()

[hotline-act-not_in_service]
; 取消号码: after the transition a 5-digit number is out of service.
exten => s,1,Answer()
 same => n,Playback(${HOTLINE_PROMPT})
 same => n,Wait(0.5)
 same => n,Playback(${HOTLINE_PROMPT})
 same => n,Hangup()

[hotline-act-forward]
; Sub-center trunk, retained seats (保留座席), department's own destination.
; Busy, no answer or trunk down: 12345 takes the call, it is never dropped.
exten => s,1,GotoIf($["${HOTLINE_PROMPT}" = ""]?dial)
 same => n,Answer()
 same => n,Playback(${HOTLINE_PROMPT})
 same => n(dial),GotoIf($["${HOTLINE_DIAL}" = ""]?hotline-failsafe,s,1)
 same => n,GosubIf(${DIALPLAN_EXISTS(hotline-record,s,1)}?hotline-record,s,1(forward))  ; recordings/ (only when on)
 same => n,Dial(${HOTLINE_DIAL},60,b(hotline-dial-headers^s^1))
 same => n,GotoIf($["${DIALSTATUS}" = "ANSWER"]?done)
 same => n,Set(__HOTLINE_FORWARD_FAILED=${DIALSTATUS})
 same => n,Goto(hotline-failsafe,s,1)
 same => n(done),Hangup()

[hotline-act-department]
; Before the effective date (old behaviour) or a local number after its transition.
exten => s,1,Goto(hotline-act-forward,s,1)

[hotline-act-passthrough]
exten => s,1,Goto(hotline-act-forward,s,1)
"""

PJSIP_ANONYMOUS = """
; Embedded demo only (asterisk.embedded: true; its SIP transport listens on
; 127.0.0.1): callers on loopback (test SIP clients) enter the plan. Never
; rendered for production, where only identified trunks (trunks.<name>.match)
; and authenticated agents reach the plan; anything else gets 401.
[anonymous]
type = endpoint
context = hotline-inbound
disallow = all
allow = ulaw,alaw
direct_media = no
rtp_symmetric = yes
"""

PJSIP_TRUNK = """[{endpoint}]
type = aor
contact = sip:{host}

[{endpoint}]
type = endpoint
context = hotline-inbound
aors = {endpoint}
disallow = all
allow = ulaw,alaw
direct_media = no
rtp_symmetric = yes
send_pai = yes
; matched by source address only (identify), never by the From user name
identify_by = ip
"""

PJSIP_IDENTIFY = """
; calls from these sources are this trunk's (trunks.<name>.match)
[{endpoint}-identify]
type = identify
endpoint = {endpoint}
"""
