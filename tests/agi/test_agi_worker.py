"""FastAGI from its worker process (`fastagi.process`, as `hotline serve` runs it):
real calls routed by the worker, the tracker told over the pipe, a killed
worker replaced while the dialplan's fail-safe takes the calls."""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import socket
from zoneinfo import ZoneInfo

import pytest

from ivr.agi.worker import AgiWorker, Channel
from ivr.config.loader import load_config
from ivr.paths import REPO
from ivr.storage import repo
from tests.support.routing_calls import collect, place


async def _until(predicate, timeout: float) -> bool:
    for _ in range(int(timeout / 0.1)):
        if predicate():
            return True
        await asyncio.sleep(0.1)
    return predicate()


async def test_channel_survives_a_bad_line_and_reports_the_other_side_gone():
    a, b = socket.socketpair()
    left, right = await Channel.open(a), await Channel.open(b)
    right.writer.write(b"not json\n{\"an\": \"object\"}\n")
    right.send("routed", "1795225100.80", {"HOTLINE_LINE": "人社-12333"})
    assert await left.receive() == []   # logged, skipped
    assert await left.receive() == []   # not an array: skipped
    assert await left.receive() == ["routed", "1795225100.80", {"HOTLINE_LINE": "人社-12333"}]
    right.close()
    assert await left.receive() is None
    left.close()


async def test_worker_that_cannot_listen_says_so():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = load_config(REPO / "config.yaml", overrides={"fastagi.port": taken.getsockname()[1]})
        worker = AgiWorker(config)
        with pytest.raises(RuntimeError, match="FastAGI worker exited while starting"):
            await worker.start()
        await worker.stop()
        assert not worker.listening


@pytest.mark.asterisk
async def test_worker_routes_tells_the_tracker_and_is_replaced(center, center_ami, agi_port, tmp_path):
    from ivr.server import HotlineServer

    config = load_config(REPO / "config.yaml", overrides={
        "asterisk.ami.port": center.ami_port, "asterisk.ami.username": center.ami_user,
        "fastagi.port": agi_port, "fastagi.process": True, "web.port": 0,
        "database.url": f"sqlite:///{tmp_path}/worker.db"})
    server = HotlineServer(config, ami_secret=center.ami_secret)  # no pinned clock: FastAGI in its worker
    await server.start()
    worker = server.services.agi
    try:
        assert isinstance(worker, AgiWorker) and worker.listening and worker.port == agi_port
        first_pid = worker._proc.pid
        assert first_pid != os.getpid()
        # The call path's process runs ahead of the server's (fastagi.nice, -10 by default; tests run as root).
        assert os.getpriority(os.PRIO_PROCESS, first_pid) == os.getpriority(os.PRIO_PROCESS, 0) - 10
        assert await server.services.ami.wait_connected(10)

        since = len(center_ami.events)
        call = await place(center_ami, "12345", hold=2)
        await collect(center_ami, [call], settle=2, since=since)
        got = call.variables()
        today = dt.datetime.now(ZoneInfo(config.hotline.timezone)).strftime("T%Y%m%d-")
        assert got["HOTLINE_MODE"] == "main" and "HOTLINE_FALLBACK" not in got
        assert got["HOTLINE_TICKET"].startswith(today)
        await server.services.tracker.drain()
        store = server.services.store
        assert await store.flush()
        record = store.run_sync(repo.get_call, call.linkedid)
        assert (record["dialed"], record["mode"], record["ticket_id"]) == ("12345", "main", got["HOTLINE_TICKET"])
        assert "route" in [e["kind"] for e in store.run_sync(repo.call_events, call.linkedid)]

        os.kill(first_pid, signal.SIGKILL)  # the worker dies mid-shift
        assert await _until(lambda: not worker.listening, 5)
        since = len(center_ami.events)
        meanwhile = await place(center_ami, "12328", hold=2)
        await collect(center_ami, [meanwhile], settle=2, since=since)
        # Whether the new worker was up yet or not, the caller reached 12345's general queue.
        assert meanwhile.queues_joined() == ["hotline-general"], meanwhile.variables()

        assert await _until(lambda: worker.listening, 15), "the worker was not replaced"
        assert worker._proc.pid != first_pid
        since = len(center_ami.events)
        again = await place(center_ami, "12345", hold=2)
        await collect(center_ami, [again], settle=2, since=since)
        assert again.variables()["HOTLINE_MODE"] == "main" and "HOTLINE_FALLBACK" not in again.variables()
        health = await server.services.health()
        assert health["fastagi"] is True
    finally:
        await server.stop()
    assert not worker._proc.is_alive()
