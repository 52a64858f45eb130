import time, statistics
import pytest
from panoramisk.message import Message
from ivr.ami.tracker import CallTracker
from ivr.ami import popdata
from tests import ami_events as A
pytest_plugins = ["tests.pg_server"]
HOLDS = {}

@pytest.mark.parametrize("rep", range(15))
async def test_hold(db_store, rep, request):
    backend = "pg" if "postgresql" in db_store.engine.url.drivername else "sqlite"
    async def pub(a, k, p): pass
    tr = CallTracker(db_store, pub, agents={"agent1001"})
    t = {}
    orig = tr._flush_soon
    def fs(call):
        if "r" not in t: t["r"] = time.monotonic()
        orig(call)
    tr._flush_soon = fs
    await tr.start()
    t0 = time.monotonic()
    for e in A.answered_call(): tr.feed(Message(e))
    await tr.drain()
    HOLDS.setdefault(backend, []).append((t.get("r", t0) - t0) * 1e3)
    assert tr.stats["pops_without_data"] == 0
    await tr.stop()

def test_report():
    for k, v in HOLDS.items():
        print(k, "hold ms: median %.1f max %.1f" % (statistics.median(v), max(v)), sorted(round(x,1) for x in v)[-5:])
