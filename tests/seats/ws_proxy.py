"""A SIP-websocket relay between the page and Asterisk that a test can cut, to play a lost network."""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future

import aiohttp
from aiohttp import web


class WsRelay:
    """ws://127.0.0.1:<port>/ws -> `upstream`; cut() drops every connection and refuses new ones
    until restore(). Runs in its own thread and loop (the test's WebDriver calls block)."""

    def __init__(self, upstream: str) -> None:
        self.upstream, self.up = upstream, True
        self.connections = 0
        self._open: set[web.WebSocketResponse] = set()
        self.loop = asyncio.new_event_loop()
        self.url: Future[str] = Future()
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if not self.up:
            return web.Response(status=503)
        ws = web.WebSocketResponse(protocols=("sip",))
        await ws.prepare(request)
        self.connections += 1
        self._open.add(ws)
        async with aiohttp.ClientSession() as session, session.ws_connect(self.upstream, protocols=("sip",)) as up:
            async def pump(src, dst) -> None:
                async for msg in src:
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        break
                    await dst.send_str(msg.data)
            tasks = [asyncio.ensure_future(pump(ws, up)), asyncio.ensure_future(pump(up, ws))]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in tasks:
                t.cancel()
        self._open.discard(ws)
        await ws.close()
        return ws

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_get("/ws", self._handle)
        runner = web.AppRunner(app, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.url.set_result(f"ws://127.0.0.1:{runner.addresses[0][1]}/ws")
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    async def _cut(self) -> None:
        self.up = False
        for ws in list(self._open):
            await ws.close(code=1001)

    def cut(self) -> None:
        asyncio.run_coroutine_threadsafe(self._cut(), self.loop).result(5)

    def restore(self) -> None:
        self.up = True

    def __enter__(self) -> "WsRelay":
        self.thread.start()
        self.url.result(10)
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(10)
        self.loop.close()
