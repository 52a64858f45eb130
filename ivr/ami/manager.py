"""panoramisk's Manager and AMIProtocol, adapted for AmiClient.

- HotlineManager: reconnection is left to AmiClient's supervisor (panoramisk
  would retry at a fixed interval forever), and event callbacks run through
  AmiClient's run_callback so one that raises cannot reach data_received;
- HotlineProtocol: one message that breaks panoramisk's parsing is logged and
  skipped instead of closing the connection; events are parsed by a fast path
  (`parse_event`) that builds the same `Message` panoramisk would, without
  its per-header `lower()` round trips: at a busy center the server parses
  thousands of events per second on the loop that also answers FastAGI;
- RedactingLog: the logger panoramisk gets; it logs whole actions on some paths
  (a failed send, a requeue), so the secret is blanked out of every line.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from panoramisk import Manager, utils
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message


class HotlineManager(Manager):
    """panoramisk's Manager with reconnection and callback dispatch handed to the AmiClient."""

    def __init__(self, *, on_lost: Callable[[], None], run_callback: Callable[[Any, Message], None],
                 **config: Any) -> None:
        super().__init__(**config)
        self._on_lost = on_lost            # AmiClient's supervisor reconnects
        self._run_callback = run_callback  # AmiClient isolates each handler

    def connection_lost(self, exc: Any) -> None:
        self._connected = False
        self.authenticated = False
        if self.pinger:
            self.pinger.cancel()
            self.pinger = None
        self._on_lost()

    def register_event(self, pattern: str, callback: Any = None) -> Any:
        self._matching: dict[str, list[str]] = {}  # a new pattern: match names afresh
        return super().register_event(pattern, callback)

    def dispatch(self, event: Message) -> list[str]:
        """Run the callbacks of every pattern matching the event's name, in registration order.
        Which patterns match a name is worked out once per name (handlers subscribe by name)."""
        event.manager = self
        cache = getattr(self, "_matching", None)
        if cache is None:
            cache = self._matching = {}
        name = event.event
        matches = cache.get(name)
        if matches is None:
            matches = cache[name] = [p for p, regexp in self.patterns if regexp.match(name) is not None]
        for pattern in matches:
            for callback in self.callbacks[pattern]:
                self._run_callback(callback, event)
        return list(matches)


def parse_event(text: str) -> Message | None:
    """An `Event:` block as the `Message` panoramisk's `Message.from_line` makes of it.

    Headers once each: `from_line` collects repeated headers into lists and
    unquotes `Result`; events with either go through it (None: not an event).
    """
    store: dict[str, tuple[str, Any]] = {}
    for line in text.split("\r\n"):
        key, sep, value = line.partition(": ")
        if not sep:
            continue
        low = key.lower()
        if low in store or low == "result":
            return Message.from_line(text)
        store[low] = (key, value)
    store["content"] = ("content", "")
    message = Message.__new__(Message)
    message._store = store
    message.manager = None
    return message


class HotlineProtocol(AMIProtocol):
    """One bad message is logged and skipped instead of killing the connection."""

    def __init__(self, manager: HotlineManager) -> None:
        super().__init__()
        self._manager = manager

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.factory = self._manager  # data may arrive before the Manager adopts us

    def data_received(self, data: bytes) -> None:
        if self.version is None or getattr(self.factory, "save_stream", None):
            super().data_received(data)  # the banner (and panoramisk's stream dump)
            return
        text = data.decode(getattr(self, "encoding", "ascii"), "ignore")
        if self.queue:
            text = self.queue.popleft() + text
        blocks = text.split(utils.EOL + utils.EOL)
        self.queue.append(blocks.pop())
        for block in blocks:
            block = block.strip()
            try:
                message = parse_event(block) if block.startswith("Event: ") else Message.from_line(block)
            except Exception:
                self.log.exception("AMI: could not parse a message (connection kept)")
                continue
            if message is not None:
                self.handle_message(message)

    def handle_message(self, message: Message) -> None:
        try:
            super().handle_message(message)
        except Exception:
            self.log.exception("AMI: could not handle a %s message (connection kept)",
                               message.get("Event") or message.get("Response") or "?")


class RedactingLog:
    """The logger panoramisk gets: formats each message and blanks the secret out of it."""

    def __init__(self, logger: logging.Logger, secret: str) -> None:
        self._logger, self._secret = logger, secret

    def _emit(self, level: int, msg: object, args: tuple[Any, ...], exc_info: bool = False) -> None:
        if not self._logger.isEnabledFor(level):
            return
        text = str(msg) % args if args else str(msg)
        if self._secret:
            text = text.replace(self._secret, "********")
        self._logger.log(level, "%s", text, exc_info=exc_info)

    def debug(self, msg: object, *args: Any, **_: Any) -> None:
        self._emit(logging.DEBUG, msg, args)

    def info(self, msg: object, *args: Any, **_: Any) -> None:
        self._emit(logging.INFO, msg, args)

    def warning(self, msg: object, *args: Any, **_: Any) -> None:
        self._emit(logging.WARNING, msg, args)

    def error(self, msg: object, *args: Any, **_: Any) -> None:
        self._emit(logging.ERROR, msg, args)

    def exception(self, msg: object, *args: Any, **_: Any) -> None:
        self._emit(logging.ERROR, msg, args, exc_info=True)
