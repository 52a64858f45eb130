"""TransferService: three-way (三方转接), blind and attended transfers, pulling an
expert into a call, and linkage to emergency / utility / provincial lines.

One mechanism serves every kind (docs/transfers.md): a *transfer leg*
(Local/<agent>@hotline-xfer-leg) is originated; its first half joins the
caller's bridge at once and its second half dials the far end. The caller
never leaves the bridge they share with the agent, so a far end that is busy,
does not answer or is unreachable changes nothing for them; if the agent's own
leg is gone by then, a guard variable on the caller makes the dialplan hand
them back to the 12345 pool. Modes differ only in what happens around the leg:

- threeway: caller and agent keep talking; on answer all three are on one
  bridge; the agent introduces the case and leaves (`complete()` or hangs up).
- blind:    the agent leaves as soon as the leg is in the bridge; the caller
  hears ringback, then the far end.
- attended: the caller is muted both ways (on hold) while the agent consults
  the far end; `complete()` unmutes and drops the agent, `cancel()` drops the
  far end.

A caller not with any agent (voice menu, speech intake) is sent straight to
the target (`hotline-xfer-direct`), e.g. by `transfer_to_emergency`.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from ivr.ami.agent_id import agent_id as parse_agent_id
from ivr.ami.client import AmiError
from ivr.calls import events
from ivr.config.model import Config
from ivr.calls.model import CallModel
from ivr.calls.state import Legs
from ivr.plugins import PluginServices
from ivr.waits import within
from transfer.ami_events import TransferEvents
from transfer.features import FeatureAction
from transfer.legs import LegActions, Transfer, TransferError
from transfer.records import FINAL, Reporter, Step, reason_text
from transfer.targets import EMERGENCY_ALIASES, MODES, resolve

log = logging.getLogger(__name__)

MODE_TEXT = {"threeway": "三方转接", "blind": "转接", "attended": "咨询转接"}
LEG_LOST_GRACE_S = 0.5
GUARD_GRACE_S = 2.0


class TransferService:
    def __init__(self, config: Config, ami: Any, *, calls: CallModel,
                 adopt: Callable[[list], Awaitable[int]] | None = None, store: Any = None, hub: Any = None,
                 history: int = 1000) -> None:
        self.config = config
        self.ami = ami
        self.asterisk = LegActions(ami)
        self.calls = calls     # the one live-call model: who the caller and the agent are
        self._adopt = adopt    # CallTracker.adopt: what a CoreShowChannels listing tells the model
        self.events = TransferEvents(self, calls)
        self.reporter = Reporter(store, hub, is_live=calls.is_live)
        self.live: dict[str, Transfer] = {}
        self._by_call: dict[str, Transfer] = {}
        self._by_leg: dict[str, Transfer] = {}
        self.finished: deque[Transfer] = deque(maxlen=history)
        self._tasks: set[asyncio.Task] = set()
        self.events.attach(ami)

    @classmethod
    def from_services(cls, services: PluginServices) -> TransferService | None:
        tracker = services.tracker
        if services.ami is None or tracker is None:
            return None
        return cls(services.config, services.ami, calls=tracker.model, adopt=tracker.adopt,
                   store=services.store, hub=services.hub)

    # -- requests ------------------------------------------------------------------
    async def transfer(self, call_id: str, kind: str, target: str, mode: str = "threeway",
                       agent: str | None = None, *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Start a transfer; returns at once (status `ringing`), later steps go to the agent's screen.

        ValueError/LookupError: refused (bad target, no such call, one already running).
        TransferError: Asterisk would not start it; the caller is untouched.
        """
        tgt = resolve(self.config, kind, target)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        legs = await self._legs(call_id)
        if call_id in self._by_call:
            raise ValueError("a transfer of this call is already in progress")
        direct = legs.agent is None
        if direct and tgt.dial is None:
            raise ValueError("the caller is not with an agent: only a line can take the call directly")
        xfer = Transfer(id=f"hx{secrets.token_hex(5)}", call_id=call_id, target=tgt,
                        mode="blind" if direct else mode, by=agent, agent=legs.agent_id or agent,
                        caller=str(legs.caller), agent_channel=legs.agent, direct=direct, extra=dict(extra or {}))
        self.live[xfer.id] = self._by_call[call_id] = self._by_leg[xfer.leg1] = self._by_leg[xfer.leg2] = xfer
        self.reporter.start(xfer)
        # Told before Asterisk is asked: its events (a busy sub-center) may beat its answer.
        xfer.state = "ringing"
        self._spawn(self.reporter.step(xfer, Step("ringing", f"正在{MODE_TEXT[xfer.mode]}至{tgt.label}…")))
        try:
            if direct:
                await self.asterisk.send_direct(xfer)
            else:
                await self._guard(xfer, True)
                if xfer.mode == "attended":
                    await self.asterisk.mute(xfer, True)
                await self.asterisk.originate(xfer)
        except AmiError as exc:
            if xfer.muted:
                await self.asterisk.mute(xfer, False)
            await self._finish(xfer, "failed", "originate", detail={"error": str(exc)})
            raise TransferError(f"Asterisk did not start the transfer: {exc}") from exc
        log.info("transfer %s of call %s: %s %s by %s", xfer.id, call_id, xfer.mode, tgt.ref, agent)
        return xfer.summary()

    async def transfer_to_emergency(self, call_id: str, kind_or_number: str, reason: str = "") -> dict[str, Any]:
        """For the speech layer: hand the call to 110/119/120/122 ("fire", "119", ...) at once.

        With an agent on the call it is a three-way hand-over (the agent stays to
        brief the operator); without one the caller is sent straight there.
        """
        number = EMERGENCY_ALIASES.get(str(kind_or_number).strip().lower(), str(kind_or_number).strip())
        return await self.transfer(call_id, "emergency", number, "threeway", agent=None,
                                   extra={"why": reason[:200], "via": "speech"})

    async def complete(self, call_id: str, agent: str | None = None) -> dict[str, Any]:
        """The agent leaves: caller and far end stay connected (threeway / attended)."""
        xfer = self._live_for(call_id)
        if xfer.state not in ("connected", "consulting"):
            raise ValueError("the far end has not answered yet")
        if xfer.muted:
            await self.asterisk.mute(xfer, False)
        if xfer.agent_channel:
            await self.asterisk.hangup(xfer.agent_channel)
        await self._finish(xfer, "completed")
        return xfer.summary()

    async def cancel(self, call_id: str, agent: str | None = None) -> dict[str, Any]:
        """Give up the transfer: the caller stays with (or goes back to) 12345."""
        xfer = self._live_for(call_id)
        if xfer.direct:
            raise ValueError("the caller is already being connected")
        if xfer.state == "ringing":
            await self.asterisk.hangup(xfer.leg1)  # agent gone: the caller's guard takes them back to the pool
        elif xfer.agent_channel is None:
            raise ValueError("the call is already handed over")
        else:
            if xfer.far_channel:
                await self.asterisk.hangup(xfer.far_channel)
            if xfer.muted:
                await self.asterisk.mute(xfer, False)
        await self._finish(xfer, "cancelled", "CANCEL", rescued=xfer.agent_channel is None)
        return xfer.summary()

    def status(self, call_id: str) -> dict[str, Any] | None:
        xfer = self._by_call.get(call_id)
        return None if xfer is None else xfer.summary()

    def find(self, transfer_id: str) -> Transfer | None:
        return self.live.get(transfer_id) or next((t for t in self.finished if t.id == transfer_id), None)

    async def wait(self, transfer_id: str, timeout: float = 30.0) -> Transfer:
        """Until the transfer reaches a final state (tests, benchmarks)."""
        xfer = self.find(transfer_id)
        if xfer is None:
            raise LookupError(f"no transfer {transfer_id}")
        await within(xfer.done.wait(), timeout)
        return xfer

    # -- AMI event reactions (called by TransferEvents; never block) ----------------
    def on_leg_joined(self, uid: str) -> None:
        xfer = self._by_leg.get(uid)
        if xfer is None or uid != xfer.leg1:
            return
        xfer.joined = True
        if xfer.mode == "blind":
            self._spawn(self._drop_agent(xfer))  # the caller now has the leg for company

    def on_result(self, xid: str, result: str, status: str, channel: str) -> None:
        xfer = self.live.get(xid)
        if xfer is None or xfer.state in FINAL:
            return
        if result == "answered":
            xfer.far_channel = channel
            xfer.answered_after = time.monotonic() - xfer.started
            self._spawn(self._answered(xfer))
        elif result == "failed":
            self._spawn(self._failed(xfer, status))

    def on_channel_gone(self, channel: str, cause: str) -> None:
        """A channel hung up: the caller, agent or far end of a transfer in progress?"""
        xfer = next((x for x in self._by_call.values()
                     if channel in (x.caller, x.agent_channel, x.far_channel)), None)
        if xfer is None:
            return
        if channel == xfer.caller:
            self._spawn(self._caller_gone(xfer))
        elif channel == xfer.agent_channel:
            xfer.agent_channel = None
            xfer.extra["agent_left_in"] = xfer.state
            if xfer.state in ("connected", "consulting"):
                self._spawn(self._unmute_then(xfer, "completed"))
        elif channel == xfer.far_channel and xfer.state in ("connected", "consulting"):
            self._spawn(self._unmute_then(xfer, "cancelled", "far_hangup"))

    def on_leg_gone(self, uid: str) -> None:
        xfer = self._by_leg.get(uid)
        if xfer is not None and xfer.state == "ringing":
            self._spawn(self._leg_lost(xfer))

    def on_feature(self, call_id: str, legs: Legs, action: FeatureAction) -> None:
        if action.action == "cancel":
            self._spawn(self._guarded(self.cancel(call_id), call_id, legs.agent_id))
        else:
            self._spawn(self._guarded(self.transfer(call_id, action.kind, action.target, action.mode,
                                                    agent=legs.agent_id, extra={"via": "dtmf"}),
                                      call_id, legs.agent_id))

    def on_ami_login(self) -> None:
        self._spawn(self.resync())

    async def resync(self) -> int:
        """Tell the call model who-is-who from Asterisk's channel list (after a (re)connect)."""
        listing = await self.ami.action({"Action": "CoreShowChannels"}, as_list=True)
        if self._adopt is None:
            return 0
        found = await self._adopt(listing if isinstance(listing, list) else [])
        log.info("transfers: %d calls with an agent found in Asterisk", found)
        return found

    # -- steps -------------------------------------------------------------------
    async def _answered(self, xfer: Transfer) -> None:
        label = xfer.target.label
        detail = {"answered_after_s": round(xfer.answered_after or 0, 3)}
        if xfer.agent_channel is None or xfer.mode == "blind" or xfer.direct:
            await self._unmute_then(xfer, "completed", detail=detail)
        elif xfer.mode == "attended":
            xfer.state = "consulting"
            await self.reporter.step(xfer, Step("answered", f"{label}已接通，来电人保持中；挂机或点“完成”即转给对方",
                                                detail=detail))
        else:
            xfer.state = "connected"
            await self.reporter.step(xfer, Step("answered", f"三方通话已建立：介绍情况后挂机或点“完成”退出，来电人与{label}保持通话",
                                                detail=detail))

    async def _failed(self, xfer: Transfer, status: str) -> None:
        if xfer.muted:
            await self.asterisk.mute(xfer, False)
        if xfer.mode == "blind":  # the agent let go of the call: the pool takes it back, always
            await self._drop_agent(xfer, force=True)
        await self._finish(xfer, "failed", status, rescued=xfer.agent_channel is None or xfer.mode == "blind")

    async def _drop_agent(self, xfer: Transfer, force: bool = False) -> None:
        if xfer.agent_channel and (force or xfer.state == "ringing"):
            await self.asterisk.hangup(xfer.agent_channel)

    async def _caller_gone(self, xfer: Transfer) -> None:
        if xfer.state == "ringing" and not xfer.direct:
            await self.asterisk.hangup(xfer.leg1)
        await self._finish(xfer, "cancelled", "caller_hangup")

    async def _leg_lost(self, xfer: Transfer) -> None:
        await asyncio.sleep(LEG_LOST_GRACE_S)  # its result event may still be on the way
        if xfer.state == "ringing":
            await self._failed(xfer, "leg_lost")

    async def _unmute_then(self, xfer: Transfer, state: str, reason: str = "",
                           detail: dict[str, Any] | None = None) -> None:
        if xfer.muted:
            await self.asterisk.mute(xfer, False)
        await self._finish(xfer, state, reason, detail=detail)

    async def _finish(self, xfer: Transfer, state: str, reason: str = "", *, rescued: bool = False,
                      detail: dict[str, Any] | None = None) -> None:
        if xfer.state in FINAL:
            return
        xfer.state, xfer.reason, xfer.rescued = state, reason, rescued
        for table, key in ((self.live, xfer.id), (self._by_call, xfer.call_id), (self._by_leg, xfer.leg1),
                           (self._by_leg, xfer.leg2)):
            if table.get(key) is xfer:
                del table[key]
        self.finished.append(xfer)
        xfer.done.set()
        if state == "completed" and xfer.target.kind in ("expert", "queue") and xfer.far_channel:
            # the expert is the call's agent now (a later transfer starts from them)
            self.calls.hand_over(xfer.call_id, xfer.far_channel, parse_agent_id(xfer.far_channel))
        label = xfer.target.label
        if state == "completed":
            message = f"已转至{label}，来电人与对方保持通话"
        elif state == "failed":
            back = "来电人已转回12345综合座席队列" if rescued else "来电人仍与您通话"
            message = f"{label}{reason_text(reason)}，{back}"
        elif reason == "caller_hangup":
            message = "来电人已挂机，转接取消"
        else:
            message = f"{label}{reason_text(reason)}，来电人仍与您通话" if reason == "far_hangup" else "转接已取消"
        info = {"reason": reason, "rescued": rescued, **(detail or {})}
        if not xfer.direct and not rescued:
            # A rescued caller's guard is cleared by hotline-xfer-rescue itself. With the
            # agent still there it stays a moment: they may be hanging up right now.
            self._spawn(self._guard(xfer, False, delay=0 if state == "completed" else GUARD_GRACE_S))
        await self.reporter.step(xfer, Step(state, message, notice=state != "completed", detail=info), ended=True)
        log.info("transfer %s of call %s: %s %s", xfer.id, xfer.call_id, state, reason)

    async def _guard(self, xfer: Transfer, on: bool, delay: float = 0) -> None:
        """HOTLINE_XFER_GUARD on the caller: left alone in the bridge, they go back to the pool."""
        if delay:
            await asyncio.sleep(delay)
            if self._by_call.get(xfer.call_id) is not None or not self.calls.is_live(xfer.call_id):
                return  # a new transfer owns the guard now, or the caller is gone
        await self.asterisk.guard(xfer, on)

    # -- helpers -------------------------------------------------------------------
    async def _legs(self, call_id: str) -> Legs:
        legs = self.calls.legs(call_id)
        if legs is None or legs.caller is None:
            await self.resync()  # events missed (reconnect, restart): ask Asterisk
            legs = self.calls.legs(call_id)
        if legs is None or legs.caller is None:
            raise LookupError("no such active call")
        return legs

    def _live_for(self, call_id: str) -> Transfer:
        xfer = self._by_call.get(call_id)
        if xfer is None:
            raise LookupError("no transfer in progress on this call")
        return xfer

    async def _guarded(self, coro: Any, call_id: str, agent_id: str | None) -> None:
        """A feature code's request: a refusal goes to the agent's screen, not to a log only."""
        try:
            await coro
        except (ValueError, LookupError, TransferError) as exc:
            hub = self.reporter.hub
            if hub is not None and self.calls.is_live(call_id):
                await hub.publish(agent_id, events.NOTICE, events.notice(call_id, "warning", f"按键转接未执行：{exc}"))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("transfer step failed", exc_info=task.exception())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
