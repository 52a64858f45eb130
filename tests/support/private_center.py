"""A private embedded Asterisk with its own hotline server, for tests that must
not disturb the shared `center` fixture: applying other dialplans, running
another city's plan. Everything it starts is stopped when the block ends.
"""
from __future__ import annotations

import datetime as dt
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from ivr.agi.context import OffsetClock
from ivr.asterisk.instance import Instance
from ivr.config.loader import load_config
from ivr.config.model import Config
from ivr.dialplan.build import instance_files
from ivr.prompts.build import install
from ivr.server import HotlineServer
from tests.support.asterisk_harness import Ami, free_port, new_instance


class Clock:
    """The moment the server believes it is (phases depend on the date), settable at any time.

    A function cannot reach the FastAGI worker: a server given one routes in
    its own process. Prefer a moment (`at=`, sent to the worker as an offset)."""

    def __init__(self, now: dt.datetime | None = None):
        self.now = now or dt.datetime.now(dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class PrivateCenter:
    inst: Instance
    tmp: Path
    at: dt.datetime                   # the moment the server's clock reads when it starts
    config: Config | None = None      # the plan the instance was started with
    ami: Ami | None = None            # test-side AMI connection collecting every event
    server: HotlineServer | None = None

    @property
    def etc(self) -> Path:
        return self.inst.host / "etc"

    def load(self, path: Path) -> Config:
        """A config file with this instance's ports and a private database."""
        return load_config(path, overrides={
            "asterisk.ami.port": self.inst.ami_port, "asterisk.ami.username": self.inst.ami_user,
            "asterisk.ami.secret": self.inst.ami_secret,
            "fastagi.port": self.inst.agi_port, "web.port": 0,
            "database.url": f"sqlite:///{self.tmp}/{self.inst.name}.db",
        })

    async def serve(self, config: Config) -> HotlineServer:
        """(Re)start the hotline server with `config` (FastAGI in its worker, on the instance's AGI port)."""
        await self.stop_server()
        server = HotlineServer(config, ami_secret=self.inst.ami_secret, clock_offset_s=OffsetClock.at(self.at).offset_s)
        await server.start()
        self.server = server
        assert await server.services.ami.wait_connected(10), "server could not log in to AMI"
        return server

    async def move_clock(self, moment: dt.datetime) -> None:
        """The running server's clock (and its FastAGI worker's) reads `moment` from now on."""
        self.at = moment
        assert self.server is not None
        await self.server.set_clock(moment)

    async def stop_server(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            await server.stop()


@asynccontextmanager
async def private_center(name: str, config_path: Path, tmp: Path, *, at: dt.datetime,
                         prompts: Path | None = None, serve: bool = True):
    """An instance running `config_path`'s generated dialplan (plus the prompts
    built in `prompts`), and the server deciding its calls at moment `at`."""
    inst = new_instance(name, free_port())
    pc = PrivateCenter(inst, tmp, at)
    pc.config = pc.load(config_path)
    inst.write_config(instance_files(pc.config, "center"))
    if prompts is not None:
        install(prompts, inst.sounds)
    try:
        inst.start()
        pc.ami = await Ami(inst).connect()
        if serve:
            await pc.serve(pc.config)
        yield pc
    finally:
        await pc.stop_server()
        if pc.ami is not None:
            pc.ami.close()
        inst.remove()
