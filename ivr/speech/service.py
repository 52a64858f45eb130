"""What the server does with live transcripts.

Each piece of text from the live server (EAGI → Vosk) goes to the call's
agent as a transcript update; every final sentence re-drafts the call's
ticket from everything said so far; an emergency phrase (着火了, 救命 …) in a
partial or final hands the call to 119/120/110 at once and tells the agent
and the supervisors. Speech is an add-on: a missing model disables only this
feature, and nothing here can hold up a call.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ivr.calls import events
from ivr.config.model import Config
from ivr.speech.errors import SpeechUnavailable
from ivr.tickets.draft import detect_emergency, draft_ticket
from ivr.tickets.lexicon import lexicon_for
from ivr.tickets.possible import hands_over
from ivr.storage import repo
from ivr.storage.store import Store
from ivr.web.hub import Hub

log = logging.getLogger("ivr.speech")

SPEECH_ACTOR = "speech"  # who the audit log names for machine-made drafts
TICKET_DRAFT_FIELDS = ("category", "summary", "address")
MAX_CALLS = 5000         # transcripts kept for re-drafting; far more than calls in progress


class CallNotes(Protocol):
    """The live call model as speech sees it (the call tracker): what a call is, and where its notes go."""

    calls: Mapping[str, Any]  # call id -> its state: .caller, .get("ticket_id"), .get("line")

    async def notify(self, call_id: str, data: dict[str, Any]) -> str | None: ...

    def agent_of(self, call_id: str) -> str | None: ...

    def claim_intake(self, call_id: str, nonce: str) -> bool: ...


class EmergencyTransfers(Protocol):
    """Transfers as speech uses them: hand a call to 119/120/110 at once."""

    async def transfer_to_emergency(self, call_id: str, kind_or_number: str, reason: str = "") -> dict[str, Any]: ...


class SpeechServices(Protocol):
    """What speech reads of the server (ivr.server.Services)."""

    tracker: CallNotes | None
    transfers: EmergencyTransfers | None
    store: Store | None
    hub: Hub
    clock: Callable[[], dt.datetime]


class SpeechService:
    def __init__(self, config: Config, services: SpeechServices) -> None:
        self.config = config
        self.s = services          # tracker, transfers, store, hub, clock
        self.engine = None
        self.live = None
        self._said: dict[str, list[str]] = {}
        self._handed_over: set[str] = set()
        self._flagged: set[tuple[str, str]] = set()  # (call, number) already shown 可能紧急，请核实
        self._lexicon = lexicon_for(config.tickets.lexicon, config.tickets.possible.model_dump())  # a city's own emergency words count live too

    async def start(self) -> bool:
        """Load the model and listen for EAGI streams; False (logged) if speech is unavailable."""
        from ivr.speech.engine import SpeechEngine
        from ivr.speech.live import LiveServer

        engine = SpeechEngine.from_config(self.config.speech)
        try:  # loading a model takes seconds: not on the event loop
            self.engine = await asyncio.get_running_loop().run_in_executor(None, engine.start)
        except SpeechUnavailable as exc:
            log.error("speech recognition disabled, calls go on without it: %s", exc)
            return False
        self.live = await LiveServer(self.engine, self.on_text, port=self.config.speech.live_port,
                                     allow=self.config.fastagi.allow, authorize=self.s.tracker.claim_intake).start()
        return True

    async def stop(self) -> None:
        if self.live:
            await self.live.stop()
        if self.engine:
            self.engine.shutdown()

    @property
    def address(self) -> str:
        """Where the EAGI script sends audio (HOST:PORT)."""
        return f"127.0.0.1:{self.live.port if self.live else self.config.speech.live_port}"

    async def on_text(self, call_id: str, kind: str, text: str) -> None:
        text = text.strip()
        if not text:
            return
        tracker = self.s.tracker
        if kind == "final":
            self._remember(call_id, text)
        await tracker.notify(call_id, events.transcript(kind, text))
        emergency = detect_emergency(text, self._lexicon)
        if emergency and call_id not in self._handed_over:
            if hands_over(emergency):
                await self._hand_over(call_id, emergency)
            else:
                await self._ask_to_verify(call_id, emergency)
        if kind == "final":
            await self._draft(call_id)

    async def _hand_over(self, call_id: str, emergency: dict) -> None:
        self._handed_over.add(call_id)
        also = "".join(f"（另请通知 {n}）" for n in emergency.get("also") or ())
        message = f"紧急情况「{emergency['phrase']}」：已转 {emergency['target']}{also}"
        log.warning("emergency phrase on call %s: handing over to %s", call_id, emergency["target"])
        result: dict = {}
        try:
            result = await self.s.transfers.transfer_to_emergency(call_id, emergency["target"], emergency["phrase"])
        except Exception as exc:  # the agent is told; the caller stays where they are
            log.error("emergency hand-over of call %s failed: %s", call_id, exc)
            message = f"紧急情况「{emergency['phrase']}」：转 {emergency['target']} 失败，请立即人工转接"
        await self.s.tracker.notify(call_id, events.emergency(emergency, result))
        await self._tell(call_id, message)

    async def _ask_to_verify(self, call_id: str, emergency: dict) -> None:
        """The recall-first tier is not sure (ivr.tickets.possible): the agent and
        supervisors see why and the suggested number, and transfer with one click."""
        if (call_id, emergency["target"]) in self._flagged:
            return
        self._flagged.add((call_id, emergency["target"]))
        also = "".join(f"（另请通知 {n}）" for n in emergency.get("also") or ())
        message = f"{emergency['reason']}：建议转 {emergency['target']}{also}"
        await self.s.tracker.notify(call_id, events.possible_emergency(emergency))
        await self._tell(call_id, message)

    async def _tell(self, call_id: str, message: str) -> None:
        await self.s.hub.publish(None, events.NOTICE, events.notice(call_id, "warning", message))
        agent = self.s.tracker.agent_of(call_id)
        if agent:
            await self.s.hub.publish(agent, events.NOTICE, events.notice(call_id, "warning", message))

    async def _draft(self, call_id: str) -> None:
        call = self.s.tracker.calls.get(call_id)
        ticket_id = call.get("ticket_id") if call else None
        draft = draft_ticket(" ".join(self._said[call_id]), self.config, at=self.s.clock(),
                             caller=call.caller if call else None, line_id=call.get("line") if call else None,
                             tags=call.get("tags") if call else None)
        fields = draft.to_dict()
        if ticket_id and self.s.store:
            saved = {k: fields[k] for k in TICKET_DRAFT_FIELDS if fields.get(k)} | {
                "draft": {k: v for k, v in fields.items() if k not in TICKET_DRAFT_FIELDS}}
            self.s.store.submit(repo.save_ticket_draft, ticket_id, saved, SPEECH_ACTOR)
        await self.s.tracker.notify(call_id, events.ticket(ticket_id, fields))

    def _remember(self, call_id: str, text: str) -> None:
        self._said.setdefault(call_id, []).append(text)
        while len(self._said) > MAX_CALLS:  # calls long over: forget the oldest
            old = next(iter(self._said))
            del self._said[old]
            self._handed_over.discard(old)
            self._flagged = {f for f in self._flagged if f[0] != old}


def speech_service(config: Config, services: SpeechServices) -> SpeechService | None:
    return SpeechService(config, services) if config.speech.enabled else None

