"""Dialplan text of the queue callback (virtual hold), the rating (一次一评) and
multi-question survey campaigns; rendered by callbacks/dialplan.py.

Queue callback, agent-first (docs/callbacks.md):
- the queue's `context = hotline-qcb-offer` and periodic announcement (its
  frequency = the configured wait) are appended to the queue's section of
  queues.conf (`[hotline-<id>](+)` in queues_hotline_callbacks.conf, read
  after queues_hotline.conf by the `queues*.conf` glob);
- a waiting caller who presses 1 leaves the queue (app_queue: a one-digit
  extension of `context`) into `hotline-qcb-offer,1`, which reports the
  caller's place (QUEUEPOSITION) and hangs up after 「已为您保留排队位置」;
- the engine originates a Local channel whose `;2` half waits in the queue at
  that position (`hotline-qcb-place`, Queue() argument 9) under the citizen's
  number; when an agent answers it (the agent is reserved), the `;1` half
  comes up in `hotline-outbound,queue` and dials the citizen over the trunk.
Caller-first (`queue-first`): the citizen is dialed once an agent is free and
joins the queue at its head.
Every flow notes the citizen's answer (or the kept place's DIALSTATUS) in AstDB
`hotline_cb/<attempt>`: a server restarted after such a call ended reads it
there instead of calling the citizen again.
"""
from __future__ import annotations

QUEUE_CALLBACK = r"""
; 排队回电 agent-first: the ;1 half of the kept place, up once an agent took it.
; The citizen hears the hello on answer (Dial A()); the agent hears ringback;
; g: after the call, report how the citizen leg ended (the attempt's cause).
; The kept place carries the citizen's number (the agent's pop); the citizen sees 12345.
exten => queue,1,Set(CALLERID(num)=${HOTLINE_QCB_CID})
 same => n,Set(CALLERID(name)=${HOTLINE_QCB_CID})
 same => n,Dial(${HOTLINE_QCB_DIAL},${HOTLINE_QCB_RING},gA(hotline/queue-callback-hello)U(hotline-cb-answered^${HOTLINE_CB_ID}))
 same => n,Set(DB(hotline_cb/${HOTLINE_CB_ID})=${DIALSTATUS})
 same => n,UserEvent(HotlineCallback,Id: ${HOTLINE_CB_ID},Question: dial,Digit: ${DIALSTATUS})
 same => n,Hangup()

; 排队回电 caller-first: the citizen answered, an agent was free: head of the queue.
; The channel was originated with caller ID 12345: the pop must show the citizen.
exten => queue-first,1,Answer()
 same => n,Gosub(hotline-cb-answered,s,1(${HOTLINE_CB_ID}))
 same => n,Set(CALLERID(num)=${HOTLINE_QCB_CALLER})
 same => n,Set(CALLERID(name)=${HOTLINE_QCB_CALLER})
 same => n,Set(__HOTLINE_QUEUE=${HOTLINE_QCB_QUEUE})
 same => n,Playback(hotline/queue-callback-hello)
 same => n,Queue(hotline-${HOTLINE_QCB_QUEUE},c,,,,,,,1)
 same => n,UserEvent(HotlineCallback,Id: ${HOTLINE_CB_ID},Question: dial,Digit: ANSWER)
 same => n,Hangup()

[hotline-qcb-place]
; The kept place: waits in the queue at the caller's position under their number.
exten => s,1,Set(CALLERID(num)=${HOTLINE_QCB_CALLER})
 same => n,Set(__HOTLINE_QUEUE=${HOTLINE_QCB_QUEUE})
 same => n,Set(__HOTLINE_QUEUE_JOINED=${EPOCH})
 same => n,Queue(hotline-${HOTLINE_QCB_QUEUE},,,,${HOTLINE_QCB_HOLD},,,,${HOTLINE_QCB_POS})
 same => n,Hangup()
"""

ANSWERED = r"""
[hotline-cb-answered]
; The citizen answered attempt ARG1: kept in AstDB (hotline_cb/<attempt>) so a
; server restarted after the call ended still knows it (engine._recover), and
; does not call the citizen a second time. The engine deletes it when done.
exten => s,1,Set(DB(hotline_cb/${ARG1})=ANSWER)
 same => n,Return()
"""

QCB_OFFER = r"""
[hotline-qcb-offer]
; A waiting caller pressed 1 (queues.conf context=): keep their place, end the call.
; Without a number to call back (hidden, not digits) they go back to waiting.
exten => 1,1,GotoIf($[${REGEX("^[0-9]{3,20}$" ${CALLERID(num)})}]?keep)
 same => n,Goto(hotline-queue,s,join)
 same => n(keep),UserEvent(HotlineQueueCallback,Queue: ${HOTLINE_QUEUE},Position: ${QUEUEPOSITION},Joined: ${HOTLINE_QUEUE_JOINED},Number: ${CALLERID(num)},Line: ${HOTLINE_LINE},Dialed: ${HOTLINE_DIALED})
 same => n,Playback(hotline/queue-callback-ok)
 same => n,Hangup()
"""

RATING = r"""
[hotline-rating]
; 一次一评: reached from hotline-queue after the agent hung up (Queue option c).
exten => s,1,GotoIf($[!${{REGEX("^(CONTINUE)?$" ${{QUEUESTATUS}})}} | "${{MEMBERNAME}}" = ""]?end)
 same => n,GotoIf($[{cond}]?rate)
 same => n(end),Hangup()
 same => n(rate),Set(TIMEOUT(absolute)=60)
 same => n,Set(HOTLINE_RATE_TRIES=0)
 same => n(ask),Read(HOTLINE_RATE,hotline/callback-rating,1,,1,6)
 same => n,GotoIf($[${{REGEX("^[{keys}]$" ${{HOTLINE_RATE}})}}]?got)
 same => n,Set(HOTLINE_RATE_TRIES=$[${{HOTLINE_RATE_TRIES}} + 1])
 same => n,GotoIf($[${{HOTLINE_RATE_TRIES}} < 2]?ask)
 same => n,Set(HOTLINE_RATE=none)
 same => n(got),UserEvent(HotlineRating,Agent: ${{MEMBERNAME}},Queue: ${{HOTLINE_QUEUE}},Line: ${{HOTLINE_LINE}},Digit: ${{HOTLINE_RATE}})
 same => n,GotoIf($["${{HOTLINE_RATE}}" = "none"]?bye)
 same => n,Playback(hotline/callback-thanks)
 same => n(bye),Hangup()
"""

SURVEY_ASK = r"""
[hotline-survey-ask]
; One question: ARG1 its id, ARG2 its prompt, ARG3 the keys it accepts, ARG4 1
; when it may be answered by voice: after the last try timed out (no key at
; all; a wrong key is an answer "none"), the spoken step (hotline-survey-speak).
exten => s,1,Set(LOCAL(tries)=0)
 same => n(ask),Read(HOTLINE_CB_DIGIT,${ARG2},1,,1,6)
 same => n,GotoIf($[${REGEX("^[${ARG3}]$" ${HOTLINE_CB_DIGIT})}]?got)
 same => n,Set(LOCAL(tries)=$[${tries} + 1])
 same => n,GotoIf($[${tries} < 2]?ask)
 same => n,GotoIf($["${ARG4}${HOTLINE_CB_DIGIT}" = "1"]?speak)
 same => n,Set(HOTLINE_CB_DIGIT=none)
 same => n(got),UserEvent(HotlineCallback,Id: ${HOTLINE_CB_ID},Question: ${ARG1},Digit: ${HOTLINE_CB_DIGIT})
 same => n,Return()
 same => n(speak),Gosub(hotline-survey-speak,s,1(${ARG1}))
 same => n,Return()
"""

# The spoken step (speech.enabled; callbacks/spoken_service.py decodes the clip).
# Record() with k keeps the clip when the citizen hangs up while speaking (most
# do, right after 「满意」): the hangup handler, pushed once per call, then
# reports it; HOTLINE_SPOKEN makes sure each clip is reported exactly once.
# The path is the configured folder (checked) + the engine's attempt id + the
# question id (config pattern): nothing from outside.
SPEAK = r"""
[hotline-survey-speak]
; ARG1: the question's id. 「请说满意或不满意」, then at most {seconds} s.
exten => s,1,Playback(hotline/callback-speak)
 same => n,Set(HOTLINE_SPOKEN=${{ARG1}})
 same => n,GotoIf($["${{HOTLINE_SPOKEN_H}}" != ""]?rec)
 same => n,Set(HOTLINE_SPOKEN_H=1)
 same => n,Set(CHANNEL(hangup_handler_push)=hotline-survey-spoken,s,1)
 same => n(rec),Record({folder}/${{HOTLINE_CB_ID}}-${{ARG1}}.wav,{silence},{seconds},qk)
 same => n,Gosub(hotline-survey-spoken,s,1)
 same => n,Return()

[hotline-survey-spoken]
exten => s,1,GotoIf($["${{HOTLINE_SPOKEN}}" = ""]?done)
 same => n,UserEvent(HotlineSpoken,Id: ${{HOTLINE_CB_ID}},Question: ${{HOTLINE_SPOKEN}},Status: ${{RECORD_STATUS}})
 same => n,Set(HOTLINE_SPOKEN=)
 same => n(done),Return()
"""


OFFER = r"""
[hotline-survey-offer-{name}]
; 不满意/未解决 (a `redo` key): 「如需人工服务请按0」. 0 joins queue {queue}: the
; agent's pop says 回访 (HOTLINE_CALLBACK=survey) with the ticket; anything else: thanks.
exten => s,1,Read(HOTLINE_CB_DIGIT,hotline/callback-offer-{name},1,,1,6)
 same => n,GotoIf($["${{HOTLINE_CB_DIGIT}}" = "0"]?agent)
 same => n,UserEvent(HotlineCallback,Id: ${{HOTLINE_CB_ID}},Question: offer,Digit: ${{IF($["${{HOTLINE_CB_DIGIT}}" = ""]?none:${{HOTLINE_CB_DIGIT}})}})
 same => n,Playback(hotline/callback-thanks)
 same => n,Hangup()
 same => n(agent),UserEvent(HotlineCallback,Id: ${{HOTLINE_CB_ID}},Question: offer,Digit: 0)
 same => n,Set(TIMEOUT(absolute)=0)
 same => n,Set(CALLERID(num)=${{HOTLINE_QCB_CALLER}})
 same => n,Set(CALLERID(name)=${{HOTLINE_QCB_CALLER}})
 same => n,Set(__HOTLINE_CALLBACK=survey)
 same => n,Set(__HOTLINE_TICKET=${{HOTLINE_TICKET}})
 same => n,Set(__HOTLINE_QUEUE={queue})
 same => n,Set(HOTLINE_OVERFLOW=)
 same => n,Goto(hotline-queue,s,1)
"""


def offer_agent(offers: dict) -> str:
    """One offer context per `callbacks.offer_agent` entry (campaign ids and queues checked by the model)."""
    return "".join(OFFER.format(name=name, queue=o.queue) for name, o in sorted(offers.items()))


def speak(spoken) -> str:
    """The spoken step's contexts for `callbacks.spoken` (folder and limits checked by the model)."""
    return SPEAK.format(folder=spoken.folder, seconds=spoken.seconds, silence=spoken.silence)


def offers(queue_callback: dict[str, int]) -> str:
    """Appended to each offering queue's section: the offer after N s, and the 1-key exit."""
    from ivr.dialplan.build import asterisk_queue

    return "".join(f"\n[{asterisk_queue(q)}](+)\ncontext = hotline-qcb-offer\n"
                   f"periodic-announce = hotline/queue-callback-offer\nperiodic-announce-frequency = {s}\n"
                   for q, s in sorted(queue_callback.items()))


def rating(r) -> str:
    """The rating context when a queue or line asks for it (else none: the hook falls through)."""
    if not r.enabled:
        return ""
    cond = []
    if r.queues:
        cond.append(f'${{REGEX("^({"|".join(r.queues)})$" ${{HOTLINE_QUEUE}})}}')
    if r.lines:
        cond.append(f'${{REGEX("^({"|".join(r.lines)})$" ${{HOTLINE_LINE}})}}')
    return RATING.format(cond=" | ".join(cond), keys="".join(sorted(r.keys)))


def surveys(campaigns: dict, spoken: bool = False, offers: dict | None = None) -> str:
    """One context per campaign: its questions in order, each answered with one key (or, with
    `spoken` and the question's words, by voice when no key came); with an `offers` entry, a
    `redo` key answered to any question leads to the offer of an agent after the last one."""
    if not campaigns:
        return ""
    out = [SURVEY_ASK]
    for name, questions in sorted(campaigns.items()):
        out.append(f"\n[hotline-survey-{name}]\nexten => s,1,Set(TIMEOUT(absolute)={60 + 40 * len(questions)})\n"
                   " same => n,Wait(0.5)\n")
        offer = name in (offers or {})
        for q in questions:
            out.append(f" same => n,Gosub(hotline-survey-ask,s,1({q.id},hotline/callback-q-{name}-{q.id},"
                       f"{''.join(sorted(q.keys))}{',1' if spoken and q.words else ''}))\n")
            if offer and q.redo:
                out.append(f' same => n,ExecIf($[${{REGEX("^[{"".join(sorted(q.redo))}]$" ${{HOTLINE_CB_DIGIT}})}}]'
                           "?Set(HOTLINE_CB_REDO=1))\n")
        if offer:
            out.append(f' same => n,GotoIf($["${{HOTLINE_CB_REDO}}" = "1"]?hotline-survey-offer-{name},s,1)\n')
        out.append(" same => n,Playback(hotline/callback-thanks)\n same => n,Hangup()\n")
    return "".join(out)
