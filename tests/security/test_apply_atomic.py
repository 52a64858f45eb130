"""`dialplan apply` cannot half-apply, on real Asterisk: a failed write, Ctrl-C or a
cancellation after the first file is written leaves the old files byte for byte
and the old plan routing a real call; a symlink planted at a temp name is not
followed; two applies on one folder run one after the other, and a held lock
makes an apply fail clearly without touching a file."""
from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path

import pytest

from ivr.dialplan import apply as apply_mod
from ivr.dialplan.apply import ApplyError, apply
from ivr.dialplan.build import instance_files, render
from tests.support.private_center import private_center
from tests.dialplan.test_dialplan_apply import NOW, ami_client, calls, conf_bytes, with_new_line

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config.yaml"


def fault_after_first_file(monkeypatch, etc: Path, fault: BaseException) -> list[str]:
    """os.replace raises `fault` once, right after the first .conf file landed in `etc`."""
    real, landed = os.replace, []

    def replace(src, dst, *a, **kw):
        dst_path = Path(dst)
        if dst_path.parent == etc and dst_path.suffix == ".conf" and len(landed) == 1:
            landed.append(f"fault before {dst_path.name}")
            raise fault
        real(src, dst, *a, **kw)
        if dst_path.parent == etc and dst_path.suffix == ".conf" and not landed:
            landed.append(dst_path.name)

    monkeypatch.setattr(os, "replace", replace)
    return landed


def run_apply(inst, files, etc, config, *, cancel_on_reload: bool = False):
    """apply() on its own event loop in a thread (so a KeyboardInterrupt inside it stays there).
    Returns the ApplyResult, or the exception that ended it."""
    async def main():
        client = await ami_client(inst)
        try:
            if not cancel_on_reload:
                return await apply(files, etc, client, config)
            reloading, real = asyncio.Event(), client.command

            async def command(cli, *a, **kw):
                if cli == "dialplan reload" and not reloading.is_set():
                    reloading.set()
                    await asyncio.sleep(60)  # a reload that hangs: the operator gives up
                return await real(cli, *a, **kw)

            client.command = command
            task = asyncio.create_task(apply(files, etc, client, config))
            await asyncio.wait_for(reloading.wait(), 30)
            task.cancel()
            return await task
        finally:
            await client.close()

    try:
        return asyncio.run(main())
    except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt/CancelledError are the point
        return exc


async def old_plan_routes(pc) -> None:
    """Asterisk, made to read what is on disk now, runs the shipped plan and routes a real call by it."""
    for cli in ("dialplan reload", "module reload app_queue.so"):
        pc.inst.rx(cli)
    shown = pc.inst.rx("dialplan show hotline-inbound")
    assert "'12328'" in shown and "'96889'" not in shown
    [got] = await calls(pc, ["12328"], hold=2)
    assert got.variables().get("HOTLINE_LINE") == "transport-12328", got.variables()
    assert "hotline-general" in got.queues_joined()


@pytest.mark.asterisk
@pytest.mark.parametrize("case", ["disk-full", "ctrl-c", "cancelled"])
async def test_an_interrupted_apply_leaves_the_old_plan_routing(case, tmp_path, monkeypatch):
    async with private_center(f"atomic-{case[:6]}", SHIPPED, tmp_path, at=NOW) as pc:
        before = conf_bytes(pc.etc)
        new = pc.load(with_new_line(tmp_path))
        files = instance_files(new, "center")
        landed = []
        if case == "disk-full":
            landed = fault_after_first_file(monkeypatch, pc.etc, OSError(28, "No space left on device"))
        elif case == "ctrl-c":
            landed = fault_after_first_file(monkeypatch, pc.etc, KeyboardInterrupt())
        outcome = await asyncio.to_thread(run_apply, pc.inst, files, pc.etc, new, cancel_on_reload=case == "cancelled")
        monkeypatch.undo()
        if case == "disk-full":
            assert len(landed) == 2, landed  # the fault hit after one file was in place
            assert not isinstance(outcome, BaseException), repr(outcome)
            assert outcome.rolled_back and any("No space left" in p for p in outcome.problems), outcome
        elif case == "ctrl-c":
            assert len(landed) == 2, landed
            assert isinstance(outcome, KeyboardInterrupt), repr(outcome)
        else:
            assert isinstance(outcome, asyncio.CancelledError), repr(outcome)
        assert conf_bytes(pc.etc) == before, "the old files are not back byte for byte"
        assert not [p.name for p in pc.etc.iterdir() if p.name.endswith(".tmp")]
        await old_plan_routes(pc)


@pytest.mark.asterisk
async def test_a_symlink_at_a_temp_name_is_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "passwd").write_text("root:x:0:0\n")
    async with private_center("atomic-link", SHIPPED, tmp_path, at=NOW, serve=False) as pc:
        new = pc.load(with_new_line(tmp_path))
        files = instance_files(new, "center")
        for name in files:  # every name the old code used for its temp files
            (pc.etc / f".{name}.tmp").symlink_to(victim / "passwd")
        (pc.etc / ".hotline-previous").symlink_to(victim)
        outcome = await asyncio.to_thread(run_apply, pc.inst, files, pc.etc, new)
        assert not isinstance(outcome, BaseException), repr(outcome)
        assert outcome.problems == [] and not outcome.rolled_back
        assert (victim / "passwd").read_text() == "root:x:0:0\n"
        assert sorted(p.name for p in victim.iterdir()) == ["passwd"]
        assert conf_bytes(pc.etc)["extensions_hotline.conf"] == render(new)["extensions_hotline.conf"].encode()
        assert "'96889'" in pc.inst.rx("dialplan show hotline-inbound")


@pytest.mark.asterisk
async def test_two_applies_on_one_folder_run_one_after_the_other(tmp_path, monkeypatch):
    async with private_center("atomic-two", SHIPPED, tmp_path, at=NOW, serve=False) as pc:
        old, new = pc.config, pc.load(with_new_line(tmp_path))
        log: list[str] = []

        async def one(tag, config):
            client = await ami_client(pc.inst)
            real = client.command

            async def command(cli, *a, **kw):
                log.append(tag)
                return await real(cli, *a, **kw)

            client.command = command
            try:
                return await apply(instance_files(config, "center"), pc.etc, client, config)
            finally:
                await client.close()

        first, second = await asyncio.gather(one("new", new), one("old", old))
        assert first.problems == [] and second.problems == [], (first, second)
        # each apply's reloads and checks ran as one block: no interleaving
        switches = sum(1 for a, b in zip(log, log[1:]) if a != b)
        assert switches == 1, log
        last = log[-1]
        assert ("'96889'" in pc.inst.rx("dialplan show hotline-inbound")) == (last == "new")

        # someone else holds the lock: the apply says so and touches nothing
        before = conf_bytes(pc.etc)
        monkeypatch.setattr(apply_mod, "LOCK_WAIT", 0.5)
        fd = os.open(pc.etc / ".hotline-apply.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            client = await ami_client(pc.inst)
            try:
                with pytest.raises(ApplyError, match="another `hotline dialplan apply` holds .*nothing applied"):
                    await apply(instance_files(new if last == "old" else old, "center"), pc.etc, client, new)
            finally:
                await client.close()
        finally:
            os.close(fd)
        assert conf_bytes(pc.etc) == before
