"""The AMI connection: panoramisk.Manager kept connected, logged in and safe from its event handlers.

What panoramisk 1.4 leaves to us, and this module adds:
- Asterisk down at start or gone later: one supervisor task reconnects with
  exponential backoff (capped) and logs in again; each attempt is logged, the
  secret never is (panoramisk's own log lines pass through a redacting logger);
- an exception in an event callback would propagate into data_received and
  drop the connection: every callback is isolated and its error logged;
- a response whose text fools panoramisk's list detection ("Atxfer
  successfully queued", "Added ... to queue") would never resolve: those
  actions default to as_list=False, and every action has a timeout;
- a half-dead connection (TCP up, Asterisk silent) is found by a Ping heartbeat.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from ivr.waits import stop_task, stop_tasks, wait_event, within
from ivr.ami.filters import EventFilter, derive, filter_actions
from ivr.ami.manager import HotlineManager, HotlineProtocol, RedactingLog

log = logging.getLogger("ivr.ami")

EventHandler = Callable[[Message], Any]

# Actions answered by one response whose wording panoramisk takes for "a list follows".
_LOGIN = Message({"Event": "login"})  # what on_login callbacks' errors are logged as
_SINGLE_RESPONSE = frozenset({"atxfer", "originate", "queueadd"})


class AmiError(Exception):
    pass


class AmiNotConnected(AmiError):
    pass


class AmiTimeout(AmiError):
    pass


class AmiActionError(AmiError):
    """Asterisk answered `Response: Error` (no such channel, permission denied...)."""

    def __init__(self, action: str, response: Message) -> None:
        super().__init__(f"{action}: {response.get('Message') or response.get('Response') or 'failed'}")
        self.response = response


class AmiClient:
    def __init__(self, host: str, port: int, username: str, secret: str, *,
                 backoff_initial: float = 0.5, backoff_max: float = 10.0, connect_timeout: float = 5.0,
                 login_timeout: float = 10.0, action_timeout: float = 10.0,
                 ping_interval: float = 20.0, ping_timeout: float = 5.0, filters: tuple[EventFilter, ...] = (),
                 noise: tuple[str, ...] = ()) -> None:
        self.host, self.port, self.username = host, port, username
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.connect_timeout, self.login_timeout = connect_timeout, login_timeout
        self.action_timeout = action_timeout
        self.ping_interval, self.ping_timeout = ping_interval, ping_timeout
        self.logins = 0  # successful logins, reconnections included
        # Events the application never reads, dropped by Asterisk for this session
        # only instead of parsed here (ivr.ami.filters).
        self.filters = filters
        # Events Asterisk may drop unless a handler subscribes to them by name
        # (ivr.ami.filters.derive, at each login), and each name's subscribers'
        # narrowing filters: a handler added later can never be silently filtered.
        self.noise = noise
        self.subscriptions: dict[str, list[tuple[EventFilter, ...]]] = {}
        self._manager = HotlineManager(
            on_lost=self._connection_lost, run_callback=self._run_callback, host=host, port=port, username=username, secret=secret, events="on",
            ping_delay=10**9,  # panoramisk's fire-and-forget pinger is replaced by our heartbeat
            log=RedactingLog(logging.getLogger("ivr.ami.panoramisk"), secret))
        self._ready = asyncio.Event()
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._callback_tasks: set[asyncio.Task[Any]] = set()
        self._login_callbacks: list[Callable[[], Any]] = []
        self._closing = False

    def __repr__(self) -> str:
        return f"<AmiClient {self.username}@{self.host}:{self.port} connected={self.connected}>"

    @property
    def connected(self) -> bool:
        """Connected and logged in."""
        return self._ready.is_set()

    async def connect(self, timeout: float = 0.0) -> bool:
        """Start connecting in the background (never raises); wait up to `timeout` s for the login."""
        if self._task is None:
            self._closing = False
            self._manager.loop = asyncio.get_running_loop()
            self._task = asyncio.get_running_loop().create_task(self._supervise(), name="ami-supervisor")
        return await self.wait_connected(timeout) if timeout > 0 else self.connected

    async def wait_connected(self, timeout: float) -> bool:
        await wait_event(self._ready, timeout)
        return self.connected

    def on(self, event: str, handler: EventHandler, *, narrowing: tuple[EventFilter, ...] = ()) -> EventHandler:
        """Call `handler(event_message)` (sync or async) for events matching `event` ("Newchannel", "Queue*", "*").

        `narrowing`: exclude rules (on this event's headers) for events the
        handler ignores anyway; Asterisk drops those only while every handler
        of the event declares the same rule. "*" handlers get what is left."""
        self.subscriptions.setdefault(event, []).append(tuple(narrowing))
        name = getattr(handler, "__qualname__", repr(handler))

        def adapter(_manager: Manager, message: Message) -> Any:
            return handler(message)

        adapter.__qualname__ = name
        self._manager.register_event(event, adapter)
        return handler

    def on_login(self, callback: Callable[[], Any]) -> None:
        """Run `callback()` (sync or async, errors logged) after every login, the first and each reconnection.

        Events are lost while the connection is down: this is where a listener
        catches up with Asterisk (the tracker's CoreShowChannels reconcile)."""
        self._login_callbacks.append(callback)

    async def action(self, action: Mapping[str, Any], *, as_list: bool | None = None,
                     timeout: float | None = None) -> Any:
        """Send an action; return its response Message (or list of messages for list actions)."""
        act = dict(action)
        name = str(act.get("Action", ""))
        if not name:
            raise ValueError("an AMI action needs an 'Action' key")
        _check_values(act)
        if as_list is None and name.lower() in _SINGLE_RESPONSE:
            as_list = False
        timeout = timeout or self.action_timeout
        if not self.connected and not await self.wait_connected(timeout):
            raise AmiNotConnected(f"AMI {self.host}:{self.port} not connected ({name} not sent)")
        protocol = self._manager.protocol
        fut = self._manager.send_action(act, as_list=as_list)
        try:
            return await within(asyncio.shield(fut), timeout)
        except TimeoutError:
            _forget(protocol, fut)
            raise AmiTimeout(f"no AMI response to {name} within {timeout:g}s") from None

    async def originate(self, channel: str, *, context: str | None = None, exten: str | None = None,
                        priority: int = 1, application: str | None = None, data: str | None = None,
                        variables: Mapping[str, str] | None = None, timeout_ms: int = 30000,
                        async_: bool = True, caller_id: str | None = None) -> Message:
        act: dict[str, Any] = {"Action": "Originate", "Channel": channel, "Timeout": str(int(timeout_ms)),
                               "Async": "true" if async_ else "false"}
        if application:
            if context or exten:
                raise ValueError("originate: give either application or context/exten, not both")
            act["Application"] = application
            if data is not None:
                act["Data"] = data
        elif context and exten:
            act.update(Context=context, Exten=exten, Priority=str(priority))
        else:
            raise ValueError("originate: needs application=, or context= and exten=")
        if caller_id:
            act["CallerID"] = caller_id
        if variables:
            act["Variable"] = [f"{k}={v}" for k, v in variables.items()]
        # A synchronous originate answers only once the channel answers or gives up.
        wait = None if async_ else timeout_ms / 1000 + self.action_timeout
        return _checked("Originate", await self.action(act, timeout=wait))

    async def getvar(self, channel: str | None, name: str) -> str | None:
        """A channel variable (or a global one with channel=None); None when empty or unset."""
        act = {"Action": "Getvar", "Variable": name}
        if channel:
            act["Channel"] = channel
        resp = _checked("Getvar", await self.action(act))
        value = resp.get("Value")
        return value if value not in (None, "", "(null)") else None

    async def setvar(self, channel: str | None, name: str, value: str) -> None:
        act = {"Action": "Setvar", "Variable": name, "Value": value}
        if channel:
            act["Channel"] = channel
        _checked("Setvar", await self.action(act))

    async def command(self, cli: str, *, timeout: float | None = None) -> str:
        """Run a CLI command (`core show channels`) and return its output text."""
        resp = _checked("Command", await self.action({"Action": "Command", "Command": cli}, timeout=timeout))
        output = resp.get("Output")  # Asterisk 14+: one Output header per line
        if output is None:
            return (resp.content or "").replace("--END COMMAND--", "").strip("\r\n")
        return "\n".join(output) if isinstance(output, list) else str(output)

    async def close(self) -> None:
        self._closing = True
        if self.connected:
            try:
                await self.action({"Action": "Logoff"}, timeout=1.0)
            except AmiError:
                pass
        task, self._task = self._task, None
        await stop_task(task)
        self._manager.close()
        self._ready.clear()
        await stop_tasks(list(self._callback_tasks))

    # -- connection supervision
    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self.backoff_initial
        attempt = 0
        where = f"{self.host}:{self.port}"
        while not self._closing:
            attempt += 1
            log.info("AMI: connecting to %s as %r (attempt %d)", where, self.username, attempt)
            started = loop.time()
            try:
                if await self._session(loop):
                    attempt = 0
                    if self._closing:
                        break
                    log.warning("AMI: connection to %s lost; reconnecting", where)
                    if loop.time() - started >= self.backoff_max:
                        delay = self.backoff_initial  # it was stable: start the backoff over
            except (OSError, TimeoutError) as exc:
                log.warning("AMI: %s unreachable (%s)", where, _reason(exc))
            except Exception:
                log.exception("AMI: unexpected error on the connection to %s", where)
            if self._closing:
                break
            log.info("AMI: next attempt in %gs", round(delay, 3))
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff_max)

    async def _session(self, loop: asyncio.AbstractEventLoop) -> bool:
        """One connection: connect, log in, heartbeat until lost. True if it logged in."""
        manager = self._manager
        self._lost.clear()
        transport, protocol = await within(
            loop.create_connection(lambda: HotlineProtocol(manager), self.host, self.port), self.connect_timeout)
        try:
            return await self._login_and_watch(loop, transport, protocol)
        except BaseException:
            transport.abort()
            raise

    async def _login_and_watch(self, loop: asyncio.AbstractEventLoop, transport: asyncio.BaseTransport,
                               protocol: HotlineProtocol) -> bool:
        done = loop.create_future()
        done.set_result((transport, protocol))
        self._manager.connection_made(done)  # sends Login
        login = self._manager.authenticated_future
        lost = loop.create_task(self._lost.wait())
        try:
            await asyncio.wait({login, lost}, timeout=self.login_timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
        if not login.done():
            log.warning("AMI: no login response from %s:%s", self.host, self.port)
            transport.abort()
            return False
        resp = login.result()
        if not resp.success:
            log.error("AMI: login refused for user %r at %s:%s: %s",
                      self.username, self.host, self.port, resp.get("Message") or resp.get("Response"))
            transport.abort()
            return False
        self.logins += 1
        log.info("AMI: logged in to %s:%s as %r", self.host, self.port, self.username)
        await self._add_filters()
        self._ready.set()
        for callback in self._login_callbacks:
            self._run_callback(lambda _manager, _event, cb=callback: cb(), _LOGIN)
        try:
            await self._heartbeat(transport)
        finally:
            self._ready.clear()
        return True

    def active_filters(self) -> tuple[EventFilter, ...]:
        """The filters for the next login: the fixed ones, then those derived from the subscriptions."""
        return self.filters + derive(self.noise, self.subscriptions)

    async def _add_filters(self) -> None:
        filters = self.active_filters()
        if not filters:
            return
        version = ""
        resp = await self._send_now({"Action": "CoreSettings"})
        if resp is not None and resp.success:
            version = str(resp.get("AsteriskVersion", ""))
        for action in filter_actions(filters, version):
            resp = await self._send_now(action)
            if resp is None or not resp.success:
                log.warning("AMI: event filter %s not accepted; those events will be read",
                            action.get("MatchCriteria") or action.get("Filter"))

    async def _send_now(self, action: dict[str, str]) -> Any:
        """An action during login (before `action()` is open); None on timeout."""
        try:
            return await within(self._manager.send_action(action, as_list=False), self.action_timeout)
        except TimeoutError:
            return None

    async def _heartbeat(self, transport: asyncio.BaseTransport) -> None:
        while True:
            if await wait_event(self._lost, self.ping_interval):
                return
            try:
                await self.action({"Action": "Ping"}, timeout=self.ping_timeout)
            except AmiError as exc:
                log.warning("AMI: %s:%s does not answer Ping (%s); reconnecting", self.host, self.port, exc)
                transport.abort()  # -> connection_lost -> _lost
                await self._lost.wait()
                return

    def _connection_lost(self) -> None:
        self._ready.clear()
        self._lost.set()

    def _run_callback(self, callback: Callable[..., Any], event: Message) -> None:
        try:
            ret = callback(self._manager, event)
        except Exception:
            log.exception("AMI: handler %s failed on a %s event (connection kept)",
                          getattr(callback, "__qualname__", callback), event.event)
            return
        if inspect.isawaitable(ret):
            task = asyncio.ensure_future(self._guard(ret, callback, event.event))
            self._callback_tasks.add(task)
            task.add_done_callback(self._callback_tasks.discard)

    async def _guard(self, awaitable: Any, callback: Callable[..., Any], event_name: str) -> None:
        try:
            await awaitable
        except Exception:
            log.exception("AMI: handler %s failed on a %s event (connection kept)",
                          getattr(callback, "__qualname__", callback), event_name)


def _check_values(act: Mapping[str, Any]) -> None:
    # A line break inside a value would let it inject a second action.
    for key, value in act.items():
        for v in value if isinstance(value, (list, tuple)) else (value,):
            if "\r" in str(v) or "\n" in str(v) or "\r" in key or "\n" in key:
                raise ValueError(f"AMI header {key!r} contains a line break")


def _checked(name: str, resp: Any) -> Message:
    first = resp[0] if isinstance(resp, list) else resp
    if not first.success:
        raise AmiActionError(name, first)
    return first


def _forget(protocol: AMIProtocol | None, fut: asyncio.Future[Any]) -> None:
    """Drop a timed-out action so a late reply finds nothing to resolve."""
    if protocol is not None:
        for key, act in list(protocol.responses.items()):
            if act.future is fut:
                protocol.responses.pop(key, None)
    fut.cancel()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    errno = getattr(exc, "errno", None)
    return os.strerror(errno) if errno else (str(exc) or exc.__class__.__name__)
