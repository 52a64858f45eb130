"""FastAGI protocol edge cases: a raw loopback socket plays Asterisk's side of res_agi.

Each test checks what Asterisk would see (the exact command lines) and that
the server keeps serving the next call after whatever went wrong.
"""
from __future__ import annotations

import asyncio
import logging

import pytest

from ivr.agi.call import AgiCall, AgiCommandError, AgiHangup
from ivr.agi.fallback import FALLBACK_VARIABLES
from ivr.agi.protocol import parse_response, quote
from ivr.agi.registry import Registry
from ivr.agi.server import FastAgiServer

CALLER = "13912345678"
CHANNEL = "PJSIP/trunk-00000001"
UTF8_VALUE = '市人社局 "12333" \\ ok'
FALLBACK_LINES = [f'SET VARIABLE {n} "{v}"\n'.encode() for n, v in FALLBACK_VARIABLES]

routes = Registry()
seen: list[tuple[str, object]] = []


@routes.route("setvar")
async def setvar(call: AgiCall) -> None:
    seen.append(("start", (call.headers["channel"], call.headers["agi_callerid"], call.args, call.context)))
    await call.set_variable("HOTLINE_TEST", UTF8_VALUE)
    seen.append(("got", await call.get_variable("HOTLINE_IN")))


@routes.route("twostep")
async def twostep(call: AgiCall) -> None:
    try:
        await call.set_variable("A", "1")
        await call.set_variable("B", "2")
    except AgiHangup:
        seen.append(("hangup", call.headers["uniqueid"]))
        raise


@routes.route("last")
async def last(call: AgiCall) -> None:
    # No wait at all: runs in the callback that read the header (_start_eagerly).
    call.send_last('SET VARIABLE HOTLINE_ACTION "queue"')
    try:
        await call.set_variable("TOO", "late")
    except AgiHangup:
        seen.append(("after last", call.headers["uniqueid"]))


@routes.route("boom")
async def boom(call: AgiCall) -> None:
    await call.set_variable("HOTLINE_ACTION", "forward")
    raise ValueError("broken routing data")


@routes.route("usage")
async def usage(call: AgiCall) -> None:
    for bad in ("SET VARIABLE", "FROB"):
        try:
            await call.command(bad)
        except AgiCommandError as exc:
            seen.append(("refused", (exc.result.code, exc.result.data)))
    seen.append(("stream", await call.stream_file("hotline/welcome", "12")))


@routes.route("sleepy")
async def sleepy(call: AgiCall) -> None:
    await asyncio.sleep(0.05)
    await call.set_variable("N", call.args[0])


def header(route: str, *args: str, uniqueid: str = "1700000000.1") -> bytes:
    lines = [
        "agi_network: yes", f"agi_network_script: {route}", f"agi_request: agi://127.0.0.1:4573/{route}",
        f"agi_channel: {CHANNEL}", "agi_language: zh", "agi_type: PJSIP", f"agi_uniqueid: {uniqueid}",
        "agi_version: 22.0.0", f"agi_callerid: {CALLER}", "agi_calleridname: 张三", "agi_callingpres: 0",
        "agi_dnid: 12333", "agi_context: hotline-in", "agi_extension: 12333", "agi_priority: 2",
        "agi_enhanced: 0.0", "agi_accountcode: ", "agi_threadid: 140000000000",
    ]
    lines += [f"agi_arg_{i}: {a}" for i, a in enumerate(args, 1)]
    return ("\n".join(lines) + "\n\n").encode()


class Peer:
    """Asterisk's end of one FastAGI connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def call(cls, port: int, route: str, *args: str, **kw: str) -> Peer:
        peer = await cls.open(port)
        peer.writer.write(header(route, *args, **kw))
        return peer

    @classmethod
    async def open(cls, port: int) -> Peer:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def command(self) -> bytes:
        return await asyncio.wait_for(self.reader.readline(), 3)

    def reply(self, text: str) -> None:
        self.writer.write(text.encode())

    async def closed(self, within: float = 3) -> bool:
        """True when the server closed the connection (EOF or reset) in time."""
        try:
            return await asyncio.wait_for(self.reader.read(), within) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.writer.close()


async def normal_call(port: int) -> None:
    """One complete, correct call; raises if the server misbehaves."""
    seen.clear()
    peer = await Peer.call(port, "setvar", "a b", "二")
    assert await peer.command() == f'SET VARIABLE HOTLINE_TEST {quote(UTF8_VALUE)}\n'.encode()
    peer.reply("200 result=1\n")
    assert await peer.command() == b"GET VARIABLE HOTLINE_IN\n"
    peer.reply("200 result=1 (hello (world))\n")
    assert await peer.closed()
    peer.close()
    assert seen[-1] == ("got", "hello (world)")


@pytest.fixture
async def server():
    async with FastAgiServer("127.0.0.1", 0, header_timeout=0.5, header_max_bytes=64 * 1024,
                             command_timeout=0.5, context={"app": "ctx"}, registry=routes) as srv:
        yield srv


async def test_normal_call_exact_bytes_and_reply(server):
    await normal_call(server.port)
    kind, (channel, caller, args, ctx) = seen[0]
    assert (channel, caller, args, ctx) == (CHANNEL, CALLER, ["a b", "二"], {"app": "ctx"})
    assert quote(UTF8_VALUE) == '"市人社局 \\"12333\\" \\\\ ok"'
    assert (server.calls_served, server.errors) == (1, 0)


async def test_diag_route_from_handlers_package():
    async with FastAgiServer("127.0.0.1", 0) as srv:
        assert "diag" in srv.registry
        peer = await Peer.call(srv.port, "diag", "ping-42")
        assert await peer.command() == b'SET VARIABLE HOTLINE_DIAG "ok"\n'
        peer.reply("200 result=1\n")
        assert await peer.command() == b'SET VARIABLE HOTLINE_DIAG_ARG "ping-42"\n'
        peer.reply("200 result=1\n")
        assert await peer.closed()
        peer.close()


async def test_half_header_then_close(server, caplog):
    peer = await Peer.open(server.port)
    peer.writer.write(header("setvar")[:60])
    await peer.writer.drain()
    peer.close()
    for _ in range(100):
        if server.rejected:
            break
        await asyncio.sleep(0.01)
    assert server.rejected == 1
    assert "closed before finishing its header" in caplog.text
    await normal_call(server.port)


async def test_header_never_finished_times_out(server, caplog):
    peer = await Peer.open(server.port)
    peer.writer.write(header("setvar")[:-1])  # all but the blank line
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    assert await peer.closed(within=3)
    assert 0.4 <= loop.time() - t0 < 2
    assert server.rejected == 1 and "no complete AGI header within 0.5s" in caplog.text
    peer.close()
    await normal_call(server.port)


async def test_ten_megabyte_header_is_dropped(server, caplog):
    peer = await Peer.open(server.port)
    line = b"agi_junk: " + b"x" * 1000 + b"\n"
    try:
        for _ in range(10 * 1024):  # ~10 MB, never a blank line
            peer.writer.write(line)
        await asyncio.wait_for(peer.writer.drain(), 5)
    except ConnectionError:
        pass  # the server cut us off mid-way, as it should
    assert await peer.closed()
    peer.close()
    assert server.rejected == 1 and "AGI header over 65536 bytes" in caplog.text
    await normal_call(server.port)


@pytest.mark.parametrize("hangup", ["HANGUP\n", "511 Command Not Permitted on a dead channel or intercept routine\n",
                                    "511 result=-1\n", "close"])
async def test_hangup_mid_command(server, caplog, hangup):
    caplog.set_level(logging.INFO, logger="ivr.agi")
    seen.clear()
    peer = await Peer.call(server.port, "twostep", uniqueid="hang.1")
    assert await peer.command() == b'SET VARIABLE A "1"\n'
    peer.reply("200 result=1\n")
    assert await peer.command() == b'SET VARIABLE B "2"\n'
    if hangup == "close":
        peer.close()
    else:
        peer.reply(hangup)
        assert await peer.closed()  # no fallback for a caller who is gone
        peer.close()
    for _ in range(100):
        if server.hangups:
            break
        await asyncio.sleep(0.01)
    assert seen == [("hangup", "hang.1")]
    assert (server.hangups, server.errors) == (1, 0)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.levelno for r in caplog.records if "caller hung up" in r.getMessage()] == [logging.INFO]
    await normal_call(server.port)


async def test_hangup_line_before_first_command(server):
    seen.clear()
    peer = await Peer.open(server.port)
    peer.writer.write(header("twostep", uniqueid="early.1") + b"HANGUP\n")
    assert await peer.closed()
    peer.close()
    assert seen == [("hangup", "early.1")] and server.hangups == 1


async def test_send_last_ends_the_stream_without_waiting(server):
    seen.clear()
    peer = await Peer.call(server.port, "last", uniqueid="last.1")
    assert await peer.command() == b'SET VARIABLE HOTLINE_ACTION "queue"\n'
    assert await peer.closed()  # the end of the stream follows, with no reply awaited
    peer.close()
    assert seen == [("after last", "last.1")]
    assert (server.calls_served, server.errors) == (1, 0)
    await normal_call(server.port)


async def test_unknown_route_gets_fallback(server, caplog):
    peer = await Peer.call(server.port, "no-such-route")
    for expected in FALLBACK_LINES:
        assert await peer.command() == expected
        peer.reply("200 result=1\n")
    assert await peer.closed()
    peer.close()
    assert server.errors == 1
    assert "unknown AGI route" in caplog.text and "139******78" in caplog.text
    await normal_call(server.port)


async def test_handler_exception_gets_fallback_and_masked_log(server, caplog):
    peer = await Peer.call(server.port, "boom")
    assert await peer.command() == b'SET VARIABLE HOTLINE_ACTION "forward"\n'
    peer.reply("200 result=1\n")
    for expected in FALLBACK_LINES:
        assert await peer.command() == expected
        peer.reply("200 result=1\n")
    assert await peer.closed()
    peer.close()
    assert server.errors == 1
    assert "broken routing data" in caplog.text
    assert f"channel={CHANNEL}" in caplog.text and "caller=139******78" in caplog.text
    assert CALLER not in caplog.text
    await normal_call(server.port)


async def test_command_timeout_then_fallback(server, caplog):
    peer = await Peer.call(server.port, "twostep")
    assert await peer.command() == b'SET VARIABLE A "1"\n'
    # no reply: after command_timeout the server gives up on the route...
    for expected in FALLBACK_LINES:
        assert await peer.command() == expected
        peer.reply("200 result=1\n")
    assert await peer.closed()
    peer.close()
    assert server.errors == 1 and "no reply to SET within the command timeout" in caplog.text
    await normal_call(server.port)


async def test_silent_asterisk_connection_closed(server):
    peer = await Peer.call(server.port, "twostep")
    assert await peer.command() == b'SET VARIABLE A "1"\n'
    assert await peer.command() == FALLBACK_LINES[0]  # fallback attempted, also unanswered
    assert await peer.closed(within=2)
    peer.close()
    assert server.errors == 1
    await normal_call(server.port)


async def test_usage_error_multiline_and_invalid_command(server):
    seen.clear()
    peer = await Peer.call(server.port, "usage")
    assert await peer.command() == b"SET VARIABLE\n"
    peer.reply("520-Invalid command syntax.  Proper usage follows:\n"
               "Usage: SET VARIABLE <variablename> <value>\n"
               "520 End of proper usage.\n")
    assert await peer.command() == b"FROB\n"
    peer.reply("510 Invalid or unknown command\n")
    assert await peer.command() == b'STREAM FILE "hotline/welcome" "12"\n'
    peer.reply("100 result=0 Trying...\n200 result=50 endpos=8000\n")
    assert await peer.closed()
    peer.close()
    assert seen == [
        ("refused", (520, "Invalid command syntax.  Proper usage follows:\n"
                          "Usage: SET VARIABLE <variablename> <value>")),
        ("refused", (510, "Invalid or unknown command")),
        ("stream", "2"),
    ]


async def test_many_concurrent_calls(server):
    async def one(i: int) -> bool:
        peer = await Peer.call(server.port, "sleepy", str(i), uniqueid=f"c.{i}")
        line = await peer.command()
        peer.reply("200 result=1\n")
        ok = line == f'SET VARIABLE N "{i}"\n'.encode() and await peer.closed()
        peer.close()
        return ok

    loop = asyncio.get_running_loop()
    t0 = loop.time()
    results = await asyncio.gather(*(one(i) for i in range(200)))
    assert all(results)
    assert loop.time() - t0 < 3  # 200 x 50 ms handlers run side by side, not one after another
    assert (server.calls_served, server.errors) == (200, 0)


async def test_stop_closes_calls_in_flight():
    srv = FastAgiServer("127.0.0.1", 0, registry=routes)
    await srv.start()
    peer = await Peer.call(srv.port, "twostep")
    assert await peer.command() == b'SET VARIABLE A "1"\n'
    await asyncio.wait_for(srv.stop(grace=0.2), 3)
    assert not srv.listening
    assert await peer.closed()
    peer.close()
    with pytest.raises(OSError):
        await Peer.open(srv.port)


def test_sync_route_refused():
    with pytest.raises(TypeError, match="async def"):
        Registry().route("x")(lambda call: None)


@pytest.mark.parametrize("line, code, result, data, extra", [
    ("200 result=1", 200, "1", None, {}),
    ("200 result=1 (a (b) c)", 200, "1", "a (b) c", {}),
    ("200 result=0 endpos=1234", 200, "0", None, {"endpos": "1234"}),
    ("200 result=-1 (hangup) endpos=10", 200, "-1", "hangup", {"endpos": "10"}),
    ("200 result= (timeout)", 200, "", "timeout", {}),
    ("200 result=1 (值)", 200, "1", "值", {}),
    ("510 Invalid or unknown command", 510, "", "Invalid or unknown command", {}),
    ("garbage", 0, "", None, {}),
])
def test_parse_response(line, code, result, data, extra):
    r = parse_response(line)
    assert (r.code, r.result, r.data, r.extra) == (code, result, data, extra)


def test_quote_refuses_line_breaks():
    with pytest.raises(ValueError):
        quote("a\nSET VARIABLE X y")
