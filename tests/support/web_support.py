"""Helpers for the web tests: a small city config, a real server on 127.0.0.1:0, a pop."""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from types import SimpleNamespace

import aiohttp
import pytest
from aiohttp import web

from ivr.config.model import Config
from ivr.storage import repo
from ivr.storage.store import Store
from ivr.web.app import create_app
from transfer import http as transfer_http
from ivr.web.auth import make_runner
from ivr.web.hub import Hub
from ivr.web.ws import WsSettings

TOKENS = {
    "tok-agent1001-5f1c2a9e": "agent1001",
    "tok-agent1002-77b0c4d1": "agent1002",
    "tok-super-0a9d3e6f4b21": "super01",
}
TOKEN = {agent: token for token, agent in TOKENS.items()}
CALLER = "13912345678"
CALLER_MASKED = "139******78"


def city_config() -> Config:
    return Config.model_validate({
        "hotline": {"name": "测试市12345", "city": "测试市"},
        "web": {"tokens": TOKENS, "supervisors": ["super01"]},
        "trunks": {"pstn": {"type": "local", "context": "outside"},
                   "tax": {"type": "local", "context": "subcenter-tax"}},
        "queues": [{"id": "general", "name": "12345 综合座席"},
                   {"id": "hrss-expert", "name": "人社专家座席"}],
        "sub_centers": [{"id": "tax", "name": "12366 税务分中心", "trunk": "tax", "numbers": ["12366"]}],
        "lines": [{"id": "hrss-12333", "name": "人社服务热线", "numbers": ["12333"], "department": "市人社局",
                   "mode": "dual_number", "effective": "2024-01-01", "queue": "hrss-expert"}],
    })


class RecordingTransfers:
    """The transfer service's server side as the web layer sees it: records each request."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    async def transfer(self, **kwargs) -> dict:
        self.calls.append(kwargs)
        return {"transfer_id": len(self.calls)}


def pop_payload(call_id: str = "1700000000.1", agent: str = "agent1001", ticket: dict | None = None) -> dict:
    return {
        "call_id": call_id, "caller": CALLER, "dialed": "12333", "line": "hrss-12333",
        "line_name": "人社服务热线", "department": "市人社局", "mode": "dual_number",
        "queue": "hrss-expert", "queue_wait_s": 12.5,
        "history": [{"call_id": "1699990000.7", "at": "2026-11-20T09:15:00+00:00", "dialed": "12345",
                     "line": None, "disposition": "answered", "ticket_id": "T20261120-0003",
                     "ticket_summary": "养老保险转移咨询"}],
        "ticket": ticket, "agent": agent,
    }


def services(**kw) -> SimpleNamespace:
    ns = SimpleNamespace(health=None, store=None, transfers=None, hub=Hub(first_id=1))
    for k, v in kw.items():
        setattr(ns, k, v)
    return ns


@asynccontextmanager
async def serve(svc: SimpleNamespace, config: Config | None = None,
                settings: WsSettings | None = None, plugins=()) -> AsyncIterator[str]:
    """Run the real app on 127.0.0.1 (free port); yields its base URL; always stops it.

    `plugins`: extra plugin loaders (ivr/plugins.py) entered around the app, as the server does."""
    app = create_app(config or city_config(), services=svc, ws_settings=settings)
    transfer_http.setup(app)  # as the server mounts the transfer plugin
    async with AsyncExitStack() as stack:
        for load in plugins:
            await stack.enter_async_context(load(svc, app))
        runner = make_runner(app, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            await runner.cleanup()


async def recv(ws: aiohttp.ClientWebSocketResponse, timeout: float = 3.0) -> dict:
    msg = await ws.receive(timeout=timeout)
    assert msg.type == aiohttp.WSMsgType.TEXT, f"expected a text message, got {msg.type} {msg.data!r}"
    return json.loads(msg.data)


FRESH = {"type": "resume", "last_event_id": None}


async def connect(session: aiohttp.ClientSession, base: str, agent: str, query: str = "",
                  first: dict | None = FRESH, **kw) -> tuple[aiohttp.ClientWebSocketResponse, dict]:
    """Open /ws as `agent`, send `first` (unless resuming by query), read the hello.

    Returns (ws, hello).
    """
    sep = "&" if query else ""
    ws = await session.ws_connect(f"{base}/ws?token={TOKEN[agent]}{sep}{query}", **kw)
    if first is not None and "last_event_id" not in query:
        await ws.send_json(first)
    hello = await recv(ws)
    assert hello["type"] == "hello" and hello["agent"] == agent, hello
    return ws, hello


async def no_message(ws: aiohttp.ClientWebSocketResponse, wait: float = 0.3) -> None:
    try:
        msg = await ws.receive(timeout=wait)
    except asyncio.TimeoutError:
        return
    raise AssertionError(f"unexpected message: {msg.type} {msg.data!r}")


async def events_within(ws: aiohttp.ClientWebSocketResponse, seconds: float) -> list[dict]:
    """Every `event` message that arrives on `ws` within `seconds`."""
    got, loop = [], asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        try:
            msg = await ws.receive(timeout=left)
        except asyncio.TimeoutError:
            break
        if msg.type == aiohttp.WSMsgType.TEXT and json.loads(msg.data).get("type") == "event":
            got.append(json.loads(msg.data))
    return got


CALL = "1700000000.1"


@pytest.fixture
def store(tmp_path):
    """A store holding one call (CALL from CALLER, answered by agent1001)."""
    st = Store.open(f"sqlite:///{tmp_path / 'hotline.db'}")
    st.run_sync(repo.upsert_call, CALL, {"caller": CALLER, "agent": "agent1001", "dialed": "12333"})
    yield st
    st.close()
