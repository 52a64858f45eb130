"""AmiClient against a small fake AMI server on loopback (banner, Login, events, a few actions)."""
from __future__ import annotations

import asyncio
import logging

import pytest

from ivr.ami.client import AmiActionError, AmiClient, AmiNotConnected, AmiTimeout
from tests.support.measure import free_port

SECRET = "s3cr3t-Hotline-9431"
EOL = "\r\n"


class FakeAmi:
    """Speaks enough AMI: banner, Login (+ FullyBooted), Ping, Getvar/Setvar, Command, Atxfer, Originate."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.logins = 0
        self.login_times: list[float] = []
        self.received: list[dict[str, object]] = []
        self.writers: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task] = set()
        self.mute_ping = False
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self, port: int = 0) -> FakeAmi:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self.drop_all()
        await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), 3)

    def drop_all(self) -> None:
        for w in list(self.writers):
            w.transport.abort()

    def event(self, name: str, **fields: str) -> None:
        msg = f"Event: {name}{EOL}" + "".join(f"{k}: {v}{EOL}" for k, v in fields.items()) + EOL
        for w in self.writers:
            w.write(msg.encode())

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        task = asyncio.current_task()
        self.tasks.add(task)
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        try:
            while True:
                block = (await reader.readuntil(b"\r\n\r\n")).decode()
                headers: dict[str, object] = {}
                for line in block.strip().split(EOL):
                    k, _, v = line.partition(": ")
                    if k in headers:
                        old = headers[k]
                        headers[k] = (old if isinstance(old, list) else [old]) + [v]
                    else:
                        headers[k] = v
                self.received.append(headers)
                reply = self._reply(headers)
                if reply:
                    writer.write(reply.encode())
                if reply.startswith("Response: Error") and headers["Action"] == "Login":
                    break  # Asterisk hangs up on a failed login
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.writers.discard(writer)
            self.tasks.discard(task)
            writer.close()

    def _reply(self, h: dict[str, object]) -> str:
        aid = f"ActionID: {h.get('ActionID', '')}{EOL}"
        action = str(h["Action"]).lower()
        if action == "login":
            if h.get("Secret") != self.secret:
                return f"Response: Error{EOL}{aid}Message: Authentication failed{EOL}{EOL}"
            self.logins += 1
            self.login_times.append(asyncio.get_running_loop().time())
            return (f"Response: Success{EOL}{aid}Message: Authentication accepted{EOL}{EOL}"
                    f"Event: FullyBooted{EOL}Privilege: system,all{EOL}Status: Fully Booted{EOL}{EOL}")
        if action == "ping":
            return "" if self.mute_ping else f"Response: Success{EOL}{aid}Ping: Pong{EOL}{EOL}"
        if action == "getvar":
            if h.get("Channel") == "PJSIP/gone-1":
                return f"Response: Error{EOL}{aid}Message: No such channel{EOL}{EOL}"
            return f"Response: Success{EOL}{aid}Variable: {h['Variable']}{EOL}Value: 市人社局{EOL}{EOL}"
        if action == "command":
            return (f"Response: Success{EOL}{aid}Message: Command output follows{EOL}"
                    f"Output: Asterisk 22.0.0 built by fake{EOL}Output: second line{EOL}{EOL}")
        if action == "atxfer":
            return f"Response: Success{EOL}{aid}Message: Atxfer successfully queued{EOL}{EOL}"
        if action == "originate":
            return f"Response: Success{EOL}{aid}Message: Originate successfully queued{EOL}{EOL}"
        if action in ("setvar", "logoff"):
            return f"Response: {'Goodbye' if action == 'logoff' else 'Success'}{EOL}{aid}{EOL}"
        return ""  # anything else: silence


async def until(predicate, within: float = 5.0) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not predicate():
        if loop.time() > end:
            return False
        await asyncio.sleep(0.01)
    return True


@pytest.fixture
async def fake():
    srv = await FakeAmi().start()
    yield srv
    await srv.stop()


@pytest.fixture
async def client(fake):
    c = AmiClient("127.0.0.1", fake.port, "hotline", SECRET, backoff_initial=0.2, backoff_max=1.0)
    assert await c.connect(timeout=5)
    yield c
    await c.close()


async def test_failing_event_handlers_keep_connection(client, fake, caplog):
    got: list[str] = []
    every: list[str] = []

    async def bad_async(event):
        raise RuntimeError("async handler bug")

    client.on("TestEvent", lambda e: 1 / 0)
    client.on("TestEvent", bad_async)
    client.on("TestEvent", lambda e: got.append(e["Seq"]))
    client.on("*", lambda e: every.append(e.event))
    for seq in ("1", "2", "3"):
        fake.event("TestEvent", Seq=seq)
        await asyncio.sleep(0.05)  # one at a time: later events must still arrive
    assert await until(lambda: len(got) == 3)
    assert got == ["1", "2", "3"] and every.count("TestEvent") == 3
    assert client.connected and fake.logins == 1
    assert (await client.action({"Action": "Ping"})).success
    assert await until(lambda: caplog.text.count("failed on a TestEvent event") == 6)
    assert "ZeroDivisionError" in caplog.text and "async handler bug" in caplog.text


async def test_reconnects_with_backoff_after_server_closes(client, fake, caplog):
    caplog.set_level(logging.INFO, logger="ivr.ami")
    got: list[str] = []
    client.on("AfterReconnect", lambda e: got.append(e["N"]))
    loop = asyncio.get_running_loop()
    dropped = loop.time()
    fake.drop_all()
    assert await until(lambda: fake.logins == 2 and client.connected)
    assert fake.login_times[1] - dropped >= 0.18  # waited backoff_initial, no hot loop
    assert client.logins == 2
    assert "connection to 127.0.0.1" in caplog.text and "lost; reconnecting" in caplog.text
    fake.event("AfterReconnect", N="1")  # event handlers survive the reconnection
    assert await until(lambda: got == ["1"])
    assert (await client.action({"Action": "Ping"})).success


async def test_asterisk_down_at_start_then_up(caplog):
    caplog.set_level(logging.INFO, logger="ivr.ami")
    port = free_port()
    c = AmiClient("127.0.0.1", port, "hotline", SECRET, backoff_initial=0.05, backoff_max=0.2)
    assert await c.connect() is False  # does not raise
    await asyncio.sleep(0.9)
    delays = [float(r.getMessage().split()[-1][:-1]) for r in caplog.records if "next attempt in" in r.getMessage()]
    assert len(delays) >= 4
    assert delays[:3] == [0.05, 0.1, 0.2] and max(delays) == 0.2  # exponential, capped
    assert caplog.text.count("unreachable") == len(delays)
    with pytest.raises(AmiNotConnected):
        await c.action({"Action": "Ping"}, timeout=0.1)
    fake = await FakeAmi().start(port)
    try:
        assert await c.wait_connected(3)
        assert (await c.getvar("PJSIP/x-1", "HOTLINE_DEPARTMENT")) == "市人社局"
    finally:
        await c.close()
        await fake.stop()


async def test_secret_never_logged(fake, caplog):
    caplog.set_level(logging.DEBUG)
    good = AmiClient("127.0.0.1", fake.port, "hotline", SECRET, backoff_initial=0.05)
    bad = AmiClient("127.0.0.1", fake.port, "hotline", SECRET + "-wrong", backoff_initial=0.05)
    try:
        assert await good.connect(timeout=5)
        await bad.connect()
        assert await until(lambda: caplog.text.count("login refused") >= 2)
        assert not bad.connected
        fake.drop_all()
        assert await until(lambda: fake.logins == 2)
        # panoramisk logs whole actions on some paths (failed sends, requeues): they are redacted
        good._manager.log.exception("Fail to send %r", {"Action": "Login", "Secret": SECRET})
        assert "'Secret': '********'" in caplog.text
    finally:
        await good.close()
        await bad.close()
    assert SECRET not in caplog.text
    assert SECRET not in repr(good)


async def test_single_response_actions_and_helpers(client, fake):
    resp = await client.action({"Action": "Atxfer", "Channel": "PJSIP/a-1", "Exten": "2001",
                                "Context": "agents"}, timeout=2)
    assert resp.success
    resp = await client.originate("Local/2001@agents", context="hotline-out", exten="12366",
                                  variables={"HOTLINE_TICKET": "T20261121-0001", "X": "y"})
    assert resp.success
    sent = fake.received[-1]
    assert sent["Variable"] == ["HOTLINE_TICKET=T20261121-0001", "X=y"]
    assert (sent["Async"], sent["Context"], sent["Exten"], sent["Priority"]) == ("true", "hotline-out", "12366", "1")
    assert await client.getvar("PJSIP/a-1", "HOTLINE_DEPARTMENT") == "市人社局"
    with pytest.raises(AmiActionError, match="No such channel"):
        await client.getvar("PJSIP/gone-1", "X")
    await client.setvar("PJSIP/a-1", "HOTLINE_TICKET", "T1")
    assert fake.received[-1]["Value"] == "T1"
    assert await client.command("core show version") == "Asterisk 22.0.0 built by fake\nsecond line"
    with pytest.raises(ValueError):
        await client.setvar("PJSIP/a-1", "X", "a\r\nAction: Hangup")


async def test_unanswered_action_times_out_connection_kept(client, fake):
    with pytest.raises(AmiTimeout):
        await client.action({"Action": "QueueStatus"}, timeout=0.3)
    assert client.connected and (await client.action({"Action": "Ping"})).success


async def test_silent_asterisk_detected_by_heartbeat(fake):
    c = AmiClient("127.0.0.1", fake.port, "hotline", SECRET, backoff_initial=0.05,
                  ping_interval=0.2, ping_timeout=0.2)
    try:
        assert await c.connect(timeout=5)
        fake.mute_ping = True
        assert await until(lambda: fake.logins >= 2, within=5)
    finally:
        await c.close()
