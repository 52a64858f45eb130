"""Shared fixtures: the real embedded Asterisk, an AMI connection, the server.

Asterisk tests are never skipped: if Asterisk cannot be installed or started,
the fixture fails and so does the run.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ivr.asterisk.embedded import install_agi_scripts
from ivr.config.loader import load_config
from ivr.dialplan.build import instance_files
from ivr.prompts import BUILD_DIR, build_for
from ivr.prompts.build import install
from tests.support.asterisk_harness import Ami, free_port, new_instance
from tests.support.private_center import Clock

REPO = Path(__file__).resolve().parents[1]
TEST_DIALPLANS = Path(__file__).parent / "dialplans"


def test_files() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(TEST_DIALPLANS.glob("*.conf"))}


@pytest.fixture(scope="session")
def shipped_config():
    return load_config(REPO / "config.yaml")


@pytest.fixture(scope="session")
def agi_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def center(shipped_config, agi_port):
    """A running 12345 center built from the shipped config.yaml (plus test contexts)."""
    inst = new_instance("center", agi_port)
    inst.write_config(instance_files(shipped_config, "center") | test_files())
    install_agi_scripts(inst)
    build_for(shipped_config)
    install(BUILD_DIR, inst.sounds)
    inst.start()
    yield inst
    inst.remove()


@pytest.fixture(scope="session")
async def center_ami(center):
    ami = await Ami(center).connect()
    yield ami
    ami.close()


@pytest.fixture
async def hotline_server(center, agi_port, tmp_path):
    """The real server (FastAGI + AMI + web + SQLite) attached to the center.

    `at=`: the server's clock reads that moment at start and runs on, and FastAGI
    runs in its worker process, as in production (the clock crosses as an offset).
    Without it `server.clock.now` may be set at any time (a pinned function):
    FastAGI then runs in the server's own process."""
    from ivr.agi.context import OffsetClock
    from ivr.server import HotlineServer

    servers = []

    async def start(config_path: Path = REPO / "config.yaml", *, at: dt.datetime | None = None, **overrides):
        config = load_config(config_path, overrides={
            "asterisk.ami.port": center.ami_port, "asterisk.ami.username": center.ami_user,
            "fastagi.port": agi_port, "web.port": 0,
            "database.url": f"sqlite:///{tmp_path}/hotline-{len(servers)}.db", **overrides,
        })
        if at is None:
            clock = Clock()
            server = HotlineServer(config, ami_secret=center.ami_secret, clock=clock)
            server.clock = clock
        else:
            server = HotlineServer(config, ami_secret=center.ami_secret, clock_offset_s=OffsetClock.at(at).offset_s)
        await server.start()
        assert await server.services.ami.wait_connected(10), "server could not log in to AMI"
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()
