"""Install generated config into a running Asterisk, reload it, verify, roll back.

Works the same for the embedded instance and a city's own Asterisk: files go
into its config folder, the reload goes through AMI. If Asterisk does not
show what the config implies afterwards, the previous files are put back and
reloaded, and the apply fails. A bad config.yaml never gets this far: it is
rejected by `load_config` before anything is rendered.
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path

from ivr.ami.client import AmiActionError, AmiClient, AmiError
from ivr.config.model import Config
from ivr.dialplan.build import asterisk_queue, inbound_numbers, render
from ivr.dialplan.install import BACKUP, Installation, LockBusy, locked, recover  # noqa: F401 (BACKUP: callers' name for it)
from ivr.waits import within

RELOADS = ("dialplan reload", "module reload app_queue.so", "module reload res_pjsip.so")
NOT_CONTEXTS = {"general", "globals"}  # sections of extensions.conf that are settings, not contexts
CONNECT_WAIT = 2.0  # seconds to wait for a client that is still logging in
LOCK_WAIT = 120.0  # seconds a second apply waits for the first (a reload + verify takes seconds)
ROLLBACK_RELOAD_WAIT = 30.0

_SECTION = re.compile(r"^\[([^\]\s]+)\]([^\n]*)$", re.M)
_LOADED_CONTEXT = re.compile(r"^\[ Context '([^']+)' created by", re.M)
_QUEUE = re.compile(r"^(\S+) has \d+ calls", re.M)
_ENDPOINT = re.compile(r"^\s*Endpoint:\s+([^\s/<]+)", re.M)


class ApplyError(RuntimeError):
    """Nothing could be applied (AMI not reachable, no config folder); no file was touched."""


@dataclass
class ApplyResult:
    written: list[str]
    problems: list[str] = field(default_factory=list)
    rolled_back: bool = False


@dataclass(frozen=True)
class Expected:
    """What Asterisk must show once the config is in place."""
    contexts: frozenset[str]
    numbers: tuple[str, ...]
    queues: frozenset[str]
    endpoints: frozenset[str]


def _sections(text: str) -> list[tuple[str, str]]:
    """(name, body) of every [section] of a .conf text; templates `[name](!)` left out."""
    parts = _SECTION.split(text)
    return [(name, body) for name, header, body in zip(parts[1::3], parts[2::3], parts[3::3])
            if "!" not in header]


def expected(config: Config) -> Expected:
    # Derived from the config, not from the files being installed: a corrupted
    # or truncated file cannot lower the bar it is checked against.
    rendered = render(config)
    contexts, endpoints = set(), set()
    for name, text in rendered.items():
        if name.startswith("extensions_"):
            contexts |= {s for s, _ in _sections(text)} - NOT_CONTEXTS
        elif name.startswith("pjsip_"):
            endpoints |= {s for s, body in _sections(text) if re.search(r"^type\s*=\s*endpoint\s*$", body, re.M)}
    numbers = tuple(n.replace("-", "") for n, _ in inbound_numbers(config))
    queues = {asterisk_queue(q.id) for q in config.queues}
    return Expected(frozenset(contexts), numbers, frozenset(queues), frozenset(endpoints))


async def _show(ami: AmiClient, cli: str) -> str:
    """CLI output; empty when Asterisk reports the command failed (e.g. no such context)."""
    try:
        return await ami.command(cli)
    except AmiActionError:
        return ""


async def _reload(ami: AmiClient) -> None:
    for command in RELOADS:
        await ami.command(command, timeout=20)


async def verify(ami: AmiClient, config: Config) -> list[str]:
    """What Asterisk shows that differs from the plan; empty when all is in place."""
    want = expected(config)
    problems = []
    loaded = set(_LOADED_CONTEXT.findall(await _show(ami, "dialplan show")))
    problems += [f"dialplan: context {c} missing" for c in sorted(want.contexts - loaded)]
    if "hotline-inbound" in loaded:
        shown = await _show(ami, "dialplan show hotline-inbound")
        problems += [f"dialplan: {n} missing from context hotline-inbound"
                     for n in want.numbers if f"'{n}'" not in shown]
    queues = set(_QUEUE.findall(await _show(ami, "queue show")))
    problems += [f"queues: {q} missing" for q in sorted(want.queues - queues)]
    endpoints = set(_ENDPOINT.findall(await _show(ami, "pjsip show endpoints")))
    problems += [f"pjsip: endpoint {e} missing" for e in sorted(want.endpoints - endpoints)]
    return problems


async def apply(files: dict[str, str], etc: Path, ami: AmiClient, config: Config) -> ApplyResult:
    """Write `files` into `etc`, reload through AMI, verify; on failure restore and reload.

    Raises ApplyError, before touching any file, when AMI is not connected,
    `etc` is not a folder, or another apply holds the folder's lock past
    LOCK_WAIT. Whatever stops it later (a problem Asterisk shows, a failed
    write, AMI lost, cancellation, Ctrl-C), the files that were there before
    are back when it returns or raises (see ivr/dialplan/install.py).
    """
    if not etc.is_dir():
        raise ApplyError(f"{etc} is not a folder: nothing applied")
    if not ami.connected and not await ami.wait_connected(CONNECT_WAIT):
        raise ApplyError(f"AMI at {ami.host}:{ami.port} is not connected: nothing applied")
    try:
        async with locked(etc, LOCK_WAIT):
            return await _apply_locked(files, etc, ami, config)
    except LockBusy as exc:
        raise ApplyError(f"{exc}: nothing applied") from None


async def _apply_locked(files: dict[str, str], etc: Path, ami: AmiClient, config: Config) -> ApplyResult:
    try:
        recover(etc)  # an apply killed mid-way left a mixed set: back to its last good set first
        change = Installation(etc, files)
        change.save_backup()
    except OSError as exc:
        raise ApplyError(f"cannot back up the files in {etc}: {exc}; nothing applied") from None
    result = ApplyResult(sorted(files))
    try:
        change.write()
        await _reload(ami)
        result.problems = await verify(ami, config)
    except (AmiError, OSError) as exc:
        result.problems = [f"{'AMI' if isinstance(exc, AmiError) else 'write'}: {exc}"]
    except BaseException:  # cancelled, Ctrl-C, a bug: never leave the new set half in place
        change.restore()
        try:
            await _reload_quietly(ami)
        except asyncio.CancelledError:
            pass  # stopped again: the files are back, the original reason is raised below
        raise
    if not result.problems:
        change.done()
        return result
    change.restore()
    await _reload_quietly(ami)
    result.rolled_back = True
    return result


async def _reload_quietly(ami: AmiClient) -> None:
    """Reload after a rollback; if AMI fails (or we are being stopped), the next reload picks the files up."""
    try:
        await within(_reload(ami), ROLLBACK_RELOAD_WAIT)
    except (AmiError, asyncio.TimeoutError):
        pass
