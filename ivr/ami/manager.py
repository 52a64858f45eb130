"""panoramisk's Manager and AMIProtocol, adapted for AmiClient.

- HotlineManager: reconnection is left to AmiClient's supervisor (panoramisk
  would retry at a fixed interval forever), and event callbacks run through
  AmiClient._run_callback so one that raises cannot reach data_received;
- HotlineProtocol: one message that breaks panoramisk's parsing is logged and
  skipped instead of closing the connection;
- RedactingLog: the logger panoramisk gets; it logs whole actions on some paths
  (a failed send, a requeue), so the secret is blanked out of every line.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

if TYPE_CHECKING:
    from ivr.ami.client import AmiClient


class HotlineManager(Manager):
    """panoramisk's Manager with reconnection and callback dispatch handed to the AmiClient."""

    def __init__(self, client: AmiClient, **config: Any) -> None:
        super().__init__(**config)
        self._client = client

    def connection_lost(self, exc: Any) -> None:
        self._connected = False
        self.authenticated = False
        if self.pinger:
            self.pinger.cancel()
            self.pinger = None
        self._client._connection_lost()

    def dispatch(self, event: Message) -> list[str]:
        matches = []
        event.manager = self
        for pattern, regexp in self.patterns:
            if regexp.match(event.event) is not None:
                matches.append(pattern)
                for callback in self.callbacks[pattern]:
                    self._client._run_callback(callback, event)
        return matches


class HotlineProtocol(AMIProtocol):
    """One bad message is logged and skipped instead of killing the connection."""

    def __init__(self, manager: HotlineManager) -> None:
        super().__init__()
        self._manager = manager

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.factory = self._manager  # data may arrive before the Manager adopts us

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
