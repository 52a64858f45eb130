"""Install generated config into a running Asterisk, reload it, verify, roll back.

Works the same for the embedded instance and a city's own Asterisk: files go
into its config folder, the reload goes through AMI. If Asterisk does not
show what we installed afterwards, the previous files are put back and
reloaded, and the apply fails. A bad config.yaml never gets this far: it is
rejected by `load_config` before anything is rendered.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ivr.ami.client import AmiClient, AmiError
from ivr.config.model import Config
from ivr.dialplan.build import asterisk_queue, inbound_numbers

RELOADS = ("dialplan reload", "module reload app_queue.so", "module reload res_pjsip.so")
BACKUP = ".hotline-previous"


class ApplyError(RuntimeError):
    pass


@dataclass
class ApplyResult:
    written: list[str]
    problems: list[str] = field(default_factory=list)
    rolled_back: bool = False


async def _reload(ami: AmiClient) -> None:
    for command in RELOADS:
        await ami.command(command, timeout=20)


async def verify(ami: AmiClient, config: Config) -> list[str]:
    """What Asterisk shows that differs from the plan; empty when all is in place."""
    problems = []
    shown = await ami.command("dialplan show hotline-inbound")
    for number, _ in inbound_numbers(config):
        if f"'{number.replace('-', '')}'" not in shown:
            problems.append(f"dialplan: {number} missing from context hotline-inbound")
    for context in ("hotline-route", "hotline-failsafe", "hotline-queue"):
        if "created by" not in await ami.command(f"dialplan show {context}"):
            problems.append(f"dialplan: context {context} missing")
    queues = await ami.command("queue show")
    for q in config.queues:
        if asterisk_queue(q.id) not in queues:
            problems.append(f"queues: {asterisk_queue(q.id)} missing")
    return problems


async def apply(files: dict[str, str], etc: Path, ami: AmiClient, config: Config) -> ApplyResult:
    """Write `files` into `etc`, reload through AMI, verify; on failure restore and reload."""
    backup = etc / BACKUP
    if backup.exists():
        shutil.rmtree(backup)
    backup.mkdir(parents=True)
    existed = []
    for name in files:
        if (etc / name).exists():
            shutil.copy2(etc / name, backup / name)
            existed.append(name)
    for name, text in files.items():
        tmp = etc / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(etc / name)  # atomic: Asterisk never reads half a file
    result = ApplyResult(sorted(files))
    try:
        await _reload(ami)
        result.problems = await verify(ami, config)
    except AmiError as exc:
        result.problems = [f"AMI: {exc}"]
    if result.problems:
        for name in files:
            if name in existed:
                shutil.copy2(backup / name, etc / name)
            else:
                (etc / name).unlink(missing_ok=True)
        try:
            await _reload(ami)
        except AmiError:
            pass  # the files are back; the next reload picks them up
        result.rolled_back = True
    return result
