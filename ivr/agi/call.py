"""One FastAGI call as a route handler sees it: headers, args and AGI commands.

A handler gets an `AgiCall` and awaits its commands; the server feeds the
call every response line Asterisk sends. AGI is strictly one command, one
reply, so a call has at most one command in flight.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from ivr.agi.protocol import AgiResult, check_variable_name, encode_command, parse_response, quote
from ivr.privacy import mask_number

log = logging.getLogger("ivr.agi")

# Media and applications (STREAM FILE, EXEC Queue...) last as long as the caller
# listens; this bound only guards against a wedged Asterisk.
LONG_COMMAND_TIMEOUT = 600.0


class AgiError(Exception):
    """Base of everything a command can raise."""


class AgiHangup(AgiError):
    """The caller hung up (HANGUP line, 511 reply) or the AGI connection closed."""


class AgiTimeout(AgiError):
    """Asterisk did not answer a command in time; the connection is no longer in step."""


class AgiCommandError(AgiError):
    """Asterisk refused a command (510 unknown command, 520 usage error, ...)."""

    def __init__(self, command: str, result: AgiResult) -> None:
        super().__init__(f"{command.split(' ', 1)[0]}... -> {result.code}: {result.data or result.text}")
        self.result = result


class AgiCall:
    """Headers (`call.headers["channel"]` or `["agi_channel"]`), `args`, `route`, app `context`."""

    __slots__ = (
        "headers", "args", "route", "context", "hung_up", "command_timeout",
        "_transport", "_loop", "_pending", "_pending_text", "_deadline", "_usage",
    )

    def __init__(self, headers: dict[str, str], transport: asyncio.Transport,
                 loop: asyncio.AbstractEventLoop, *, context: Any = None, command_timeout: float = 10.0) -> None:
        both = {k[4:]: v for k, v in headers.items() if k.startswith("agi_")}
        both.update(headers)
        self.headers = both
        self.args = _args(headers)
        self.route = route_name(headers)
        self.context = context
        self.hung_up = False
        self.command_timeout = command_timeout
        self._transport = transport
        self._loop = loop
        self._pending: asyncio.Future[AgiResult] | None = None
        self._pending_text = ""
        self._deadline = 0.0  # loop time when the command in flight times out (see check_timeout)
        self._usage: list[str] | None = None

    # -- for log lines: never the full caller number
    def describe(self) -> str:
        h = self.headers
        return (f"route={self.route!r} channel={h.get('channel', '?')} "
                f"caller={mask_number(h.get('callerid'))} uniqueid={h.get('uniqueid', '?')}")

    # -- commands
    async def command(self, text: str, *, timeout: float | None = None) -> AgiResult:
        """Send one AGI command and return its 200 reply; other replies raise AgiCommandError."""
        if self.hung_up:
            raise AgiHangup("caller already hung up")
        if self._pending is not None:
            raise RuntimeError("an AGI call runs one command at a time")
        data = encode_command(text)
        if self._transport.is_closing():
            self._mark_hangup("connection closed")
            raise AgiHangup("connection closed")
        loop = self._loop
        fut = loop.create_future()
        self._pending = fut
        self._pending_text = text
        self._deadline = loop.time() + (timeout or self.command_timeout)
        self._transport.write(data)
        try:
            result = await fut
        finally:
            self._pending = None
        if result.code != 200:
            raise AgiCommandError(text, result)
        return result

    def send_last(self, text: str) -> None:
        """Send a route's last command without waiting for its reply, and end the AGI.

        The command is followed at once by the end of our stream (FIN), so
        Asterisk reads both together: it runs the command, sees the end, and
        ends the AGI with AGISTATUS=SUCCESS (its reply goes nowhere). One
        wake-up of each side less per call than `command()` and a close, for a
        command whose failure the dialplan catches anyway (an unset
        HOTLINE_ACTION takes the fail-safe). No command can follow it.
        """
        if self.hung_up or self._transport.is_closing():
            raise AgiHangup("caller already hung up")
        self._transport.write(encode_command(text))
        self._transport.write_eof()
        self.hung_up = True  # for us the AGI is over: a later command() raises AgiHangup

    async def set_variable(self, name: str, value: object, *, timeout: float | None = None) -> None:
        await self.command(f"SET VARIABLE {check_variable_name(name)} {quote(str(value))}", timeout=timeout)

    async def get_variable(self, name: str) -> str | None:
        """The variable's value, or None when it is not set."""
        res = await self.command(f"GET VARIABLE {check_variable_name(name)}")
        return res.data if res.result == "1" else None

    async def stream_file(self, name: str, escape_digits: str = "", *,
                          timeout: float = LONG_COMMAND_TIMEOUT) -> str | None:
        """Play a sound (no extension); return the digit pressed, or None."""
        res = await self.command(f"STREAM FILE {quote(name)} {quote(escape_digits)}", timeout=timeout)
        code = _int(res.result)
        if code < 0:
            # -1 is "missing file or hangup"; a hangup shows up on the next command.
            log.warning("STREAM FILE %s failed (missing sound or hangup): %s", name, self.describe())
            return None
        return chr(code) if code > 0 else None

    async def verbose(self, message: str, level: int = 1) -> None:
        await self.command(f"VERBOSE {quote(message)} {int(level)}")

    async def exec(self, app: str, options: str = "", *, timeout: float = LONG_COMMAND_TIMEOUT) -> AgiResult:
        """Run a dialplan application; `result` is its return code (-2: no such application)."""
        if not app.isidentifier():
            raise ValueError(f"invalid application name: {app!r}")
        return await self.command(f"EXEC {app} {quote(options)}", timeout=timeout)

    async def hangup(self) -> None:
        await self.command("HANGUP")

    # -- fed by the connection
    def feed_line(self, raw: bytes) -> None:
        line = raw.rstrip(b"\r").decode("utf-8", "replace")
        if self._usage is not None:  # inside a 520- block
            if line.startswith("520 "):
                usage, self._usage = self._usage, None
                self._resolve(AgiResult(520, data="\n".join(usage), text=line))
            else:
                self._usage.append(line)
            return
        if line == "HANGUP":
            self._mark_hangup("HANGUP from Asterisk")
            return
        if line.startswith("520-"):
            self._usage = [line[4:]]
            return
        if not line:
            return
        result = parse_response(line)
        if result.code == 100:  # "100 result=0 Trying...": the real reply follows
            return
        if result.code == 511:  # command not permitted on a dead channel
            self._mark_hangup("511 dead channel")
            return
        self._resolve(result)

    def connection_lost(self) -> None:
        self._mark_hangup("connection closed")

    def _resolve(self, result: AgiResult) -> None:
        fut = self._pending
        if fut is None or fut.done():
            log.debug("unsolicited AGI line %r: %s", result.text, self.describe())
            return
        fut.set_result(result)

    def _mark_hangup(self, reason: str) -> None:
        self.hung_up = True
        fut = self._pending
        if fut is not None and not fut.done():
            fut.set_exception(AgiHangup(reason))

    def check_timeout(self, now: float) -> None:
        """Called periodically by the server (one sweep for all calls is cheaper than a timer per command)."""
        fut = self._pending
        if fut is not None and not fut.done() and now >= self._deadline:
            verb = self._pending_text.split(" ", 1)[0]
            fut.set_exception(AgiTimeout(f"no reply to {verb} within the command timeout"))


def route_name(headers: dict[str, str]) -> str:
    """`agi_network_script` ("route", "/route?x=1") or the path of `agi_request` -> "route"."""
    script = headers.get("agi_network_script")
    if script is None:
        request = headers.get("agi_request", "")
        _, sep, rest = request.partition("://")
        script = rest.partition("/")[2] if sep else ""
    return script.split("?", 1)[0].strip("/")


def _args(headers: dict[str, str]) -> list[str]:
    args: list[str] = []
    while (value := headers.get(f"agi_arg_{len(args) + 1}")) is not None:
        args.append(value)
    return args


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1
