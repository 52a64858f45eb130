"""The one lab shape (tests/support/lab.py) leaves no Asterisk running: not after a start that
failed halfway, not after a test that failed inside the lab."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.asterisk_harness import new_instance
from tests.support.lab import AsteriskLab, running

pytestmark = pytest.mark.asterisk


class TwoCenters(AsteriskLab):
    """A first center that boots and a second with no config, which cannot: a start that fails halfway."""

    def __init__(self, workdir: Path, *, second_boots: bool) -> None:
        super().__init__(workdir)
        self.first, self.second = new_instance("lab1"), new_instance("lab2")
        self.second_boots = second_boots
        self.pids: list[int] = []

    async def start(self) -> None:
        self.first.write_config()
        if self.second_boots:
            self.second.write_config()
        self.boot(self.first)
        self.pids.append(self.first.pid())
        ami = await self.connect(self.first)
        await ami.action({"Action": "Ping"})   # the AMI connection is up: stop() must close it too
        self.boot(self.second)
        self.pids.append(self.second.pid())


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


async def test_a_start_that_fails_halfway_stops_what_it_had_started(tmp_path):
    lab = TwoCenters(tmp_path, second_boots=False)
    with pytest.raises(Exception, match="no config"):
        async with running(lab):
            pytest.fail("the lab must not be yielded when its start failed")
    assert len(lab.pids) == 1 and lab.pids[0] is not None
    assert not _alive(lab.pids[0]), "the first center's Asterisk was left running"
    assert not lab.first.host.exists() and not lab.second.host.exists()


async def test_a_failure_inside_the_lab_still_stops_every_instance(tmp_path):
    lab = TwoCenters(tmp_path, second_boots=True)
    with pytest.raises(RuntimeError, match="the test failed"):
        async with running(lab):
            assert all(_alive(pid) for pid in lab.pids) and len(lab.pids) == 2
            raise RuntimeError("the test failed")
    assert not any(_alive(pid) for pid in lab.pids)
    await lab.stop()   # a second stop has nothing left to do
