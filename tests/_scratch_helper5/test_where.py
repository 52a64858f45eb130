import time, statistics
import pytest
from panoramisk.message import Message
from ivr.ami.tracker import CallTracker
from ivr.storage.store import Store
from tests import ami_events as A
pytest_plugins = ["tests.pg_server"]
R = []
_orig = Store._run_batch
def _rb(self, b):
    t = time.monotonic(); _orig(self, b); R.append((t, time.monotonic(), len(b)))
Store._run_batch = _rb

@pytest.mark.parametrize("rep", range(6))
async def test_where(db_store, rep):
    async def pub(a, k, p): pass
    tr = CallTracker(db_store, pub, agents={"agent1001"})
    await tr.start()
    R.clear()
    t0 = time.monotonic()
    for e in A.answered_call(): tr.feed(Message(e))
    t1 = time.monotonic()
    await tr.drain()
    print(db_store.engine.url.drivername, "feed %.1f" % ((t1-t0)*1e3), [("start %.1f" % ((a-t0)*1e3), "dur %.1f" % ((b-a)*1e3), n) for a, b, n in R])
    await tr.stop()
