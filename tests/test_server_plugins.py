"""`hotline serve` start-up loads the feature plugins and unwinds when one fails:
a plugin that cannot start leaves no task running and the already started
plugins stopped, in reverse order (ivr/plugins.py, ivr/server.py)."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import pytest
import yaml

from ivr import plugins
from ivr.config.loader import load_config
from ivr.paths import REPO
from ivr.server import HotlineServer
from tests.support.asterisk_harness import free_port


def _config(tmp_path):
    data = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    data["asterisk"] |= {"embedded": False}
    data["asterisk"]["ami"] |= {"port": free_port()}
    data["fastagi"] |= {"port": free_port()}
    data["web"] |= {"port": free_port()}
    data["database"] = {"url": f"sqlite:///{tmp_path}/hotline.db"}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_config(path)


def test_the_shipped_features_are_installed_plugins():
    assert [name for name, _ in plugins.loaders()] == ["callbacks", "recordings", "seats", "supervision", "transfer"]


async def test_a_plugin_that_fails_to_start_stops_what_started_before_it(tmp_path, monkeypatch):
    events: list[str] = []

    @asynccontextmanager
    async def good(services, app):
        events.append("good up")
        yield
        events.append("good down")

    @asynccontextmanager
    async def bad(services, app):
        raise RuntimeError("no licence for feature B")
        yield

    monkeypatch.setattr(plugins, "loaders", lambda: (("a", good), ("b", bad)))
    server = HotlineServer(_config(tmp_path), ami_secret="not-used")
    with pytest.raises(RuntimeError, match="no licence"):
        await server.start()
    assert events == ["good up", "good down"]
    await asyncio.sleep(0)
    left = [t.get_name() for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert left == []


async def test_stop_unwinds_plugins_after_the_web_and_before_the_tracker(tmp_path, monkeypatch):
    events: list[str] = []

    @asynccontextmanager
    async def probe(services, app):
        events.append("up")
        yield
        events.append(f"down, tracker running: {services.tracker is not None}")

    monkeypatch.setattr(plugins, "loaders", lambda: (("probe", probe),))
    server = HotlineServer(_config(tmp_path), ami_secret="not-used")
    await server.start()
    await server.stop()
    assert events == ["up", "down, tracker running: True"]
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
