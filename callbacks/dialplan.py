"""The outbound dialplan: where an originated callback goes once the citizen answers.

`hotline-outbound,<flow>,1` (callbacks/engine.py originates into it). The
survey (回访) asks one question, 「对本次服务满意请按1，基本满意请按2，不满意请按3」
(prompt id callback-survey, from text through the prompts pipeline), reads
one key (twice at most) and reports it as
`UserEvent(HotlineCallback, Id: <attempt>, Question: satisfaction, Digit: <key>)`;
the engine stores it on the task and the ticket. A missed-call callback
(漏接回拨) hears why we call and joins the queue as a new caller would. Nothing from outside is
interpolated here: the only variables are the engine's own attempt id and
the digit Read() accepted, checked against ^[1-3]$.
"""
from __future__ import annotations

from callbacks import dialplan_flows as flows
from callbacks.originate import OUTBOUND_CONTEXT
from callbacks.surveys import DEFAULT_REDO
from ivr.config.callbacks_model import OFFER_DEFAULT
from ivr.config.model import Config
from ivr.dialplan import variables as V
from ivr.dialplan.build import header

OFFER, REDO = f"hotline-survey-offer-{OFFER_DEFAULT}", "".join(DEFAULT_REDO)  # offer_agent.default
SURVEY = f"""
[{OUTBOUND_CONTEXT}]
; Survey (回访): one satisfaction question, answered with one key.
exten => survey,1,Answer()
 same => n,Gosub(hotline-cb-answered,s,1(${{HOTLINE_CB_ID}}))
 same => n,GotoIf($["${{HOTLINE_CB_SURVEY}}" != ""]?hotline-survey-${{HOTLINE_CB_SURVEY}},s,1)
 same => n,Set(TIMEOUT(absolute)=120)
 same => n,Wait(0.5)
 same => n,Set(HOTLINE_CB_TRIES=0)
 same => n(ask),Read(HOTLINE_CB_DIGIT,hotline/callback-survey,1,,1,6)
 same => n,GotoIf($[${{REGEX("^[1-3]$" ${{HOTLINE_CB_DIGIT}})}}]?got)
 same => n,Set(HOTLINE_CB_TRIES=$[${{HOTLINE_CB_TRIES}} + 1])
 same => n,GotoIf($[${{HOTLINE_CB_TRIES}} < 2]?ask)
 same => n,UserEvent(HotlineCallback,Id: ${{HOTLINE_CB_ID}},Question: satisfaction,Digit: none)
 same => n,Hangup()
 same => n(got),UserEvent(HotlineCallback,Id: ${{HOTLINE_CB_ID}},Question: satisfaction,Digit: ${{HOTLINE_CB_DIGIT}})
 same => n,GotoIf($[${{DIALPLAN_EXISTS({OFFER},s,1)}} & ${{REGEX("^[{REDO}]$" ${{HOTLINE_CB_DIGIT}})}}]?{OFFER},s,1)
 same => n,Playback(hotline/callback-thanks)
 same => n,Hangup()
"""

# speech.enabled: no key at all after the second try -> the spoken step, then thanks.
NO_KEY = " same => n,UserEvent(HotlineCallback,Id: ${HOTLINE_CB_ID},Question: satisfaction,Digit: none)\n"
SPOKEN = """ same => n,GotoIf($["${HOTLINE_CB_DIGIT}" = ""]?speak)
""" + NO_KEY + """ same => n,Hangup()
 same => n(speak),Gosub(hotline-survey-speak,s,1(satisfaction))
 same => n,Playback(hotline/callback-thanks)
"""
assert NO_KEY in SURVEY


MISSED = """
; 漏接回拨 (caller-first): the citizen who hung up in the queue hears why we
; call and joins the queue; the engine placed the call only with an agent free.
; Clicked 回拨: the engine found the clicking agent free and gave their own
; interface ({agent}, checked: callbacks/originate.py); they are rung first,
; and the queue takes the citizen if they do not answer. The agent (and the
; pop) see the citizen's number (checked by the engine), not 12345.
exten => missed,1,Answer()
 same => n,Gosub(hotline-cb-answered,s,1(${{HOTLINE_CB_ID}}))
 same => n,Set(__HOTLINE_CALLBACK=missed)
 same => n,Set(__HOTLINE_QUEUE={queue})
 same => n,Set(HOTLINE_OVERFLOW=)
 same => n,Set(CALLERID(num)=${{HOTLINE_QCB_CALLER}})
 same => n,Set(CALLERID(name)=${{HOTLINE_QCB_CALLER}})
 same => n,Playback(hotline/callback-missed)
 same => n,GotoIf($["${{{agent}}}" = ""]?queue)
 same => n,Dial(${{{agent}}},{ring})
 same => n,UserEvent(HotlineCallback,Id: ${{HOTLINE_CB_ID}},Question: agent,Digit: ${{DIALSTATUS}})
 same => n,GotoIf($["${{DIALSTATUS}}" = "ANSWER"]?bye)
 same => n(queue),Goto(hotline-queue,s,1)
 same => n(bye),Hangup()
"""


def _ring(config: Config, queue: str) -> int:
    """How long a clicked 回拨 rings its agent: the missed-call queue's ring timeout."""
    q = config.queue(queue)
    return q.ring_timeout if q is not None else 15


def render(config: Config, source: str = "config.yaml") -> dict[str, str]:
    """extensions_callbacks.conf (always written: a disabled engine never originates into it),
    and, when the engine is on, the queue-callback offers and the rating.

    Every id written here (queues, lines, campaigns, questions, keys) is a
    config value checked by the model's patterns: safe in the dialplan.
    """
    cb = config.callbacks
    spoken = cb.enabled and config.speech.enabled
    text = header(source) + (SURVEY.replace(NO_KEY, SPOKEN) if spoken else SURVEY) \
        + MISSED.format(queue=cb.missed_queue, agent=V.CB_AGENT, ring=_ring(config, cb.missed_queue)) + flows.QUEUE_CALLBACK + flows.ANSWERED
    files = {}
    if cb.enabled:
        text += flows.surveys(cb.campaigns, spoken, cb.offer_agent) + flows.offer_agent(cb.offer_agent) \
            + flows.rating(cb.rating) + (flows.speak(cb.spoken) if spoken else "")
        if cb.queue_callback:
            text += flows.QCB_OFFER
            files["queues_hotline_callbacks.conf"] = header(source) + flows.offers(cb.queue_callback)
    return files | {"extensions_callbacks.conf": text}
