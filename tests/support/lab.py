"""One start/stop shape for the real-Asterisk labs (transfer, callbacks, recordings, supervision, benchmarks).

Why: every lab started its Asterisk instance(s), the test's own AMI connections
and the product's server, and each stopped them in its own `stop()`; every
package's conftest repeated the same try/start/yield/finally/stop; and a start
that failed halfway (an instance that did not boot, a server that could not
log in) depended on each lab's `stop()` guessing what had started. Here a lab
records each part *before* starting it, and `stop()` stops all of them in
reverse order, each bounded (ivr/waits.py `within`), going on past a part
that fails to stop, so no Asterisk is left running. `running(lab)` is the one
start/yield/stop, and `package_lab` the one package-scoped fixture.
"""
from __future__ import annotations

import inspect
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from ivr.asterisk.instance import Instance
from ivr.server import HotlineServer
from ivr.waits import within
from tests.support.asterisk_harness import Ami

log = logging.getLogger(__name__)

STOP_BOUND_S = 60.0   # one part's stop; the server's own stop bounds its tasks at ivr/waits.py STOP_GRACE_S


class Startable(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


L = TypeVar("L", bound=Startable)


class AsteriskLab:
    """Base of a lab: boots instances, connects AMIs and starts the server, and stops exactly what it started."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.server: HotlineServer | None = None
        self.config: Any = None
        self._stops: list[tuple[str, Callable[[], Awaitable[None] | None]]] = []
        self._server_registered = False

    def boot(self, *instances: Instance) -> None:
        """Start Asterisk instances in order (each removed by `stop()`, even one that failed to boot)."""
        for inst in instances:
            self._stops.append((f"asterisk {inst.name}", inst.remove))
            inst.start()

    async def connect(self, inst: Instance) -> Ami:
        """A test-side AMI connection to `inst` that sees every event (closed by `stop()`)."""
        ami = Ami(inst)
        self._stops.append((f"ami {inst.name}", ami.close))
        return await ami.connect()

    async def start_server(self, inst: Instance, **kw: Any) -> HotlineServer:
        """The product's server on `self.config`, logged in to `inst`'s AMI (stopped by `stop()` or `stop_server()`)."""
        if not self._server_registered:
            self._stops.append(("server", self.stop_server))
            self._server_registered = True
        self.server = HotlineServer(self.config, ami_secret=inst.ami_secret, **kw)
        await self.server.start()
        assert await self.server.services.ami.wait_connected(10), f"the server could not log in to {inst.name}'s AMI"
        return self.server

    async def stop_server(self) -> None:
        """Stop the server if it runs (a test may stop and start it again: a restart)."""
        server, self.server = self.server, None
        if server is not None:
            await server.stop()

    async def stop(self) -> None:
        """Stop every started part, last started first; each bounded; raise the first failure after all are tried."""
        first: BaseException | None = None
        while self._stops:
            name, stop = self._stops.pop()
            try:
                result = stop()
                if inspect.isawaitable(result):
                    await within(result, STOP_BOUND_S)
            except Exception as exc:  # noqa: BLE001 - the other parts must still stop
                log.error("lab: stopping %s failed: %r", name, exc)
                first = first or exc
        self._server_registered = False
        if first is not None:
            raise first


@asynccontextmanager
async def running(lab: L) -> AsyncIterator[L]:
    """Start `lab`, yield it, and always stop it (also when its start failed halfway)."""
    try:
        await lab.start()
        yield lab
    finally:
        await lab.stop()


@asynccontextmanager
async def scratch_lab(make: Callable[[Path], L], prefix: str) -> AsyncIterator[L]:
    """A benchmark's lab in a fresh temporary folder: started, yielded, stopped, and its folder removed."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        async with running(make(work)) as lab:
            yield lab
    finally:
        shutil.rmtree(work, ignore_errors=True)


def package_lab(name: str, make: Callable[[Path], Startable], folder: str | None = None):
    """A package-scoped fixture `name`: one running lab for the package, in a fresh temporary folder."""

    @pytest.fixture(scope="package", name=name)
    async def _lab(tmp_path_factory):
        async with running(make(tmp_path_factory.mktemp(folder or name))) as lab:
            yield lab

    return _lab
