"""What a FastAGI route handler reads from `call.context`: one `RouteContext`, in either process.

Production answers FastAGI from a worker process (ivr.agi.worker); a test or
`fastagi.process: false` answers it in the server's own process. Both build
the same `RouteContext`; only its two seams differ, each a small Protocol:

  `RouteSink.routed(...)`   where the route's variables go: the call tracker
                            in-process, the socket to the server in the worker;
  `TicketIds` storage       the Store in-process, the server over the socket.

The clock is an `OffsetClock`: the real time plus a fixed offset, so a test
that routes "on 20 December" sends the worker a number (`clock_offset_s`),
not a function, and the worker path production runs is the one tested.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol

from ivr.config.model import Config
from ivr.plan.decide import Plan
from ivr.storage.ticket_ids import TicketIds


class RouteSink(Protocol):
    """Told the variables a `route` call just set (the server's AMI session skips that context's VarSets)."""

    def routed(self, linkedid: str, variables: dict[str, str], uniqueid: str | None = None) -> None: ...


class OffsetClock:
    """Now, shifted by `offset_s` seconds (0 in production; tests move it to a phase's date).

    A number crosses to the worker process where a function could not."""

    __slots__ = ("offset_s",)

    def __init__(self, offset_s: float = 0.0) -> None:
        self.offset_s = float(offset_s)

    @classmethod
    def at(cls, moment: dt.datetime) -> OffsetClock:
        """A clock that reads `moment` now and runs on from there."""
        return cls((moment - dt.datetime.now(dt.timezone.utc)).total_seconds())

    def __call__(self) -> dt.datetime:
        now = dt.datetime.now(dt.timezone.utc)
        return now + dt.timedelta(seconds=self.offset_s) if self.offset_s else now


class RouteContext:
    """The config, the plan, the clock, ticket ids, the live-intake address and where routes are reported.

    `clock` is an OffsetClock in the worker; in the server's process a test
    may pass any function (FastAGI stays in that process then).

    `intake` is the live-transcription server's HOST:PORT when speech runs
    (the route then asks callers to state their matter), else None."""

    def __init__(self, config: Config, *, sink: RouteSink | None, ticket_ids: TicketIds | None,
                 intake: str | None = None, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.config = config
        self.plan = Plan(config)
        self.sink = sink
        self.ticket_ids = ticket_ids
        self.intake = intake
        self.clock = clock if clock is not None else OffsetClock()

    async def new_ticket_id(self) -> str:
        """A ticket id for a new call (T20261121-0001); empty without storage."""
        if self.ticket_ids is None:
            return ""
        return await self.ticket_ids.next(self.clock())
