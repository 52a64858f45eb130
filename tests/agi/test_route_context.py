"""One RouteContext in both processes: the FastAGI worker (production) and the
server's own process decide the same call the same way, at the moment the
test sets, which reaches the worker as a clock offset (at start or later)."""
from __future__ import annotations

import asyncio
import datetime as dt

from ivr.agi.context import OffsetClock, RouteContext
from ivr.agi.server import FastAgiServer
from ivr.agi.worker import AgiWorker
from ivr.config.loader import load_config
from ivr.dialplan import variables as V
from ivr.paths import REPO
from ivr.plan.decide import Plan
from ivr.storage.ticket_ids import TicketIds
from tests.agi.test_fastagi_protocol import header

SH = dt.timezone(dt.timedelta(hours=8))
BEFORE = dt.datetime(2026, 10, 20, 10, 0, tzinfo=SH)   # no merge started yet
AFTER = dt.datetime(2027, 1, 10, 10, 0, tzinfo=SH)     # transitions over


class Routes:
    """The server's call tracker as the route reports to it (RouteSink): what it was told."""

    def __init__(self) -> None:
        self.told: list[tuple[str, dict[str, str], str | None]] = []
        self.arrived = asyncio.Event()

    def routed(self, linkedid: str, variables: dict[str, str], uniqueid: str | None = None) -> None:
        self.told.append((linkedid, variables, uniqueid))
        self.arrived.set()

    async def next(self) -> dict[str, str]:
        await asyncio.wait_for(self.arrived.wait(), 10)
        self.arrived.clear()
        return self.told[-1][1]


async def route(port: int, dialed: str, linkedid: str) -> None:
    """Asterisk's side of one `route` request: acknowledges each command until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(header("route", dialed, linkedid, uniqueid=linkedid))
    for _ in range(10):
        if not await asyncio.wait_for(reader.readline(), 5):
            break
        writer.write(b"200 result=1\n")
    writer.close()


def a_number_that_changes(config) -> str:
    """A number of the shipped plan whose routing differs between BEFORE and AFTER."""
    plan = Plan(config)
    for line in config.lines:
        for number in line.numbers:
            if plan.decide(number, BEFORE).channel_vars() != plan.decide(number, AFTER).channel_vars():
                return number
    raise AssertionError("the shipped plan has no transition between the two moments")


def expected(config, number: str, moment: dt.datetime) -> dict[str, str]:
    return Plan(config).decide(number, moment, caller="13912345678").channel_vars()


def test_offset_clock_reads_the_moment_and_runs_on():
    clock = OffsetClock.at(BEFORE)
    assert abs((clock() - BEFORE).total_seconds()) < 1
    assert abs((OffsetClock()() - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 1


async def test_worker_and_in_process_route_alike_at_the_moment_set(tmp_path):
    config = load_config(REPO / "config.yaml", overrides={"fastagi.port": 0, "fastagi.allow": ["127.0.0.1"]})
    number = a_number_that_changes(config)
    sink = Routes()
    worker = AgiWorker(config, sink=sink, clock_offset_s=OffsetClock.at(BEFORE).offset_s)
    await worker.start()
    try:
        await route(worker.port, number, "1795225100.1")
        before = await sink.next()
        await worker.set_clock_offset(OffsetClock.at(AFTER).offset_s)  # the module fixture's way
        await route(worker.port, number, "1795225100.2")
        after = await sink.next()
    finally:
        await worker.stop()
    # No store: the day's numbering starts at 1, and the day is the moment's.
    assert before.pop(V.TICKET) == "T20261020-0001" and after.pop(V.TICKET) == "T20270110-0001"
    assert before == expected(config, number, BEFORE)
    assert after == expected(config, number, AFTER)

    async def day_starts_empty(prefix: str) -> int:
        return 0

    in_process = Routes()
    context = RouteContext(config, sink=in_process, clock=OffsetClock.at(AFTER),
                           ticket_ids=TicketIds(config.hotline.timezone, day_starts_empty, lambda ticket_id: None))
    async with FastAgiServer("127.0.0.1", 0, context=context) as server:
        await route(server.port, number, "1795225100.3")
        here = await in_process.next()
    assert here == {**after, V.TICKET: "T20270110-0001"}
    assert [linkedid for linkedid, _, _ in sink.told + in_process.told] == [
        "1795225100.1", "1795225100.2", "1795225100.3"]
