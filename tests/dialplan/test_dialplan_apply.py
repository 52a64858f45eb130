"""`hotline dialplan apply` against a real Asterisk of its own: a new number is
live after apply; files Asterisk does not take are rolled back byte for byte
and the old plan keeps routing; a bad config or an unreachable AMI touch nothing."""
from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ivr.ami.client import AmiClient
from ivr.config.loader import load_config
from ivr.dialplan.apply import BACKUP, ApplyError, apply
from ivr.dialplan.build import instance_files, render
from tests.support.asterisk_harness import free_port
from tests.support.private_center import private_center
from tests.support.routing_calls import collect, place

REPO = Path(__file__).resolve().parents[2]
HOTLINE = Path(sys.executable).parent / "hotline"
SH = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 12, 20, 10, 0, tzinfo=SH)  # every shipped dual-number line is live

# A line the shipped plan does not have: a water utility folded in as 双号并行,
# with its own expert queue whose one (simulated) agent answers.
NEW_LINE = {
    "id": "water-96889", "name": "供水服务热线", "numbers": ["96889"], "aliases": ["96890"],
    "department": "市水务集团", "mode": "dual_number", "effective": dt.date(2026, 11, 15),
    "seats": "pooled", "queue": "water-expert",
}
NEW_QUEUE = {"id": "water-expert", "name": "供水专家座席", "strategy": "ringall",
             "members": ["Local/water1@sim-agents/n"], "overflow_after": 30, "overflow_to": "general"}


def load_shipped():
    return load_config(REPO / "config.yaml")


def shipped_data() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))


def write_yaml(data: dict, path: Path) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def new_line_data() -> dict:
    data = shipped_data()
    data["lines"].append(NEW_LINE)
    data["queues"].append(NEW_QUEUE)
    return data


def with_new_line(tmp_path: Path) -> Path:
    return write_yaml(new_line_data(), tmp_path / "config-new-line.yaml")


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` (hidden ones too) with its bytes and mtime."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def conf_bytes(etc: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(etc.glob("*.conf"))}


async def ami_client(inst) -> AmiClient:
    client = AmiClient("127.0.0.1", inst.ami_port, inst.ami_user, inst.ami_secret)
    assert await client.connect(timeout=10), "cannot log in to the test instance's AMI"
    return client


async def calls(pc, numbers: list[str], hold: int = 4):
    """Real calls placed together into the private center, with what Asterisk reported for each."""
    since = len(pc.ami.events)
    results = await asyncio.gather(*(place(pc.ami, n, hold=hold) for n in numbers))
    # margin for a loaded machine: routing, ringing and answering happen before the hold starts
    await collect(pc.ami, results, settle=hold + 3, since=since)
    pc.inst.rx("channel request hangup all")
    return results


@pytest.mark.asterisk
async def test_apply_puts_a_new_number_live(tmp_path):
    async with private_center("apply-new", REPO / "config.yaml", tmp_path, at=NOW) as pc:
        assert "'96889'" not in pc.inst.rx("dialplan show hotline-inbound")
        new = pc.load(with_new_line(tmp_path))
        client = await ami_client(pc.inst)
        try:
            result = await apply(instance_files(new, "center"), pc.etc, client, new)
        finally:
            await client.close()
        assert result.problems == [] and not result.rolled_back
        assert conf_bytes(pc.etc)["extensions_hotline.conf"] == render(new)["extensions_hotline.conf"].encode()
        shown = pc.inst.rx("dialplan show hotline-inbound")
        assert "'96889'" in shown and "'96890'" in shown
        assert "hotline-water-expert has" in pc.inst.rx("queue show hotline-water-expert")

        await pc.serve(new)  # the server now decides with the new plan
        for got in await calls(pc, ["96889", "96890"]):
            number, variables = got.number, got.variables()
            assert variables.get("HOTLINE_LINE") == "water-96889", (number, variables)
            assert variables.get("HOTLINE_DIALED") == number
            assert got.apps("Queue") and got.apps("Queue")[0].startswith("hotline-water-expert,")
            # the applied queue is live: its member (a simulated agent) answered
            answered = got.user_events("SimAgent")
            assert [e.get("Agent") for e in answered] == ["water1"], got.queues_joined()


@pytest.mark.asterisk
async def test_cli_apply_installs_reloads_and_verifies(tmp_path):
    async with private_center("apply-cli", REPO / "config.yaml", tmp_path, at=NOW, serve=False) as pc:
        data = new_line_data()
        data["asterisk"]["ami"].update(port=pc.inst.ami_port, username=pc.inst.ami_user, secret=pc.inst.ami_secret)
        config = write_yaml(data, tmp_path / "city.yaml")
        sounds = tmp_path / "sounds"
        run = await asyncio.to_thread(subprocess.run, [
            str(HOTLINE), "dialplan", "apply", "-c", str(config), "--etc", str(pc.etc), "--sounds", str(sounds)],
            capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        assert "Asterisk reloaded and verified" in run.stdout
        assert pc.inst.ami_secret not in run.stdout + run.stderr
        assert "'96889'" in pc.inst.rx("dialplan show hotline-inbound")
        assert (sounds / "welcome.wav").is_file() and (sounds / "welcome.wav16").is_file()


def _unclosed_section(files):
    files["extensions_hotline.conf"] = files["extensions_hotline.conf"].replace("[hotline-inbound]", "[hotline-inbound")


def _inbound_renamed(files):
    files["extensions_hotline.conf"] = files["extensions_hotline.conf"].replace("[hotline-inbound]", "[hotline-inbound-draft]")


def _truncated(files):
    text = files["extensions_hotline.conf"]
    files["extensions_hotline.conf"] = text[:text.index("[hotline-act-queue]")]


def _queues_broken(files):
    files["queues_hotline.conf"] = files["queues_hotline.conf"].replace("[hotline-general]", "[hotline-general")


def _pjsip_broken(files):
    files["pjsip_hotline.conf"] = files["pjsip_hotline.conf"].replace("[anonymous]", "[anonymous")


CORRUPTIONS = {
    "unclosed-section": (_unclosed_section, "context hotline-inbound missing"),
    "inbound-context-missing": (_inbound_renamed, "context hotline-inbound missing"),
    "truncated-after-inbound": (_truncated, "context hotline-act-queue missing"),
    "queues-file-broken": (_queues_broken, "queues: hotline-general missing"),
    "pjsip-file-broken": (_pjsip_broken, "pjsip: endpoint anonymous missing"),
}


@pytest.mark.asterisk
@pytest.mark.parametrize("case", list(CORRUPTIONS))
async def test_rejected_files_are_rolled_back_and_the_old_plan_still_routes(case, tmp_path):
    corrupt, problem = CORRUPTIONS[case]
    async with private_center(f"apply-{case[:8]}", REPO / "config.yaml", tmp_path, at=NOW) as pc:
        before = conf_bytes(pc.etc)
        new = pc.load(with_new_line(tmp_path))
        files = instance_files(new, "center")
        corrupt(files)
        client = await ami_client(pc.inst)
        try:
            result = await apply(files, pc.etc, client, new)
        finally:
            await client.close()
        assert result.rolled_back, result
        assert any(problem in p for p in result.problems), result.problems
        assert conf_bytes(pc.etc) == before, "the previous files are not back byte for byte"
        assert not list(pc.etc.glob(".*.tmp"))

        shown = pc.inst.rx("dialplan show hotline-inbound")
        assert "'12328'" in shown and "'96889'" not in shown
        assert "hotline-general has" in pc.inst.rx("queue show hotline-general")
        assert "anonymous" in pc.inst.rx("pjsip show endpoint anonymous")
        [got] = await calls(pc, ["12328"], hold=2)  # 双号并行 12328 -> the 12345 pool, as before the apply
        assert got.variables().get("HOTLINE_LINE") == "transport-12328", got.variables()
        assert "hotline-general" in got.queues_joined()


BAD_CONFIGS = {
    "malformed-number": lambda d: d["lines"][0].update(numbers=["12a12"]),
    "unknown-queue": lambda d: d["lines"][10].update(queue="no-such-queue"),
    "number-on-two-lines": lambda d: d["lines"][1].update(numbers=["12312"]),
}


@pytest.mark.parametrize("case", list(BAD_CONFIGS) + ["yaml-syntax"])
def test_cli_with_a_bad_config_exits_2_and_writes_nothing(case, tmp_path):
    good = render(load_shipped())
    etc, sounds, out = tmp_path / "etc", tmp_path / "sounds", tmp_path / "out"
    etc.mkdir()
    sounds.mkdir()
    for name, text in good.items():
        (etc / name).write_text(text, encoding="utf-8")
    before = snapshot(etc)
    bad = tmp_path / "bad.yaml"
    if case == "yaml-syntax":
        bad.write_text((REPO / "config.yaml").read_text(encoding="utf-8") + "\nlines: [\n", encoding="utf-8")
    else:
        data = shipped_data()
        BAD_CONFIGS[case](data)
        write_yaml(data, bad)
    apply_run = subprocess.run([str(HOTLINE), "dialplan", "apply", "-c", str(bad), "--etc", str(etc),
                                "--sounds", str(sounds)], capture_output=True, text=True, timeout=60)
    build_run = subprocess.run([str(HOTLINE), "dialplan", "build", "-c", str(bad), "-o", str(out)],
                               capture_output=True, text=True, timeout=60)
    for run in (apply_run, build_run):
        assert run.returncode == 2, run.stderr
        assert f"{bad}:" in run.stderr, run.stderr  # FILE:LINE: what is wrong
        assert "Traceback" not in run.stderr
    assert snapshot(etc) == before
    assert not (etc / BACKUP).exists()
    assert not any(sounds.iterdir())
    assert not out.exists()


async def test_apply_with_ami_unreachable_touches_nothing(tmp_path):
    config = load_shipped()
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "extensions_hotline.conf").write_text("; the running plan\n", encoding="utf-8")
    before = snapshot(etc)
    port = free_port()  # nothing listens there
    client = AmiClient("127.0.0.1", port, "hotline", "secret", connect_timeout=1)
    assert not await client.connect(timeout=1)
    started = time.monotonic()
    try:
        with pytest.raises(ApplyError, match=rf"127\.0\.0\.1:{port}.*nothing applied"):
            await apply(render(config), etc, client, config)
    finally:
        await client.close()
    assert time.monotonic() - started < 10
    assert snapshot(etc) == before
    assert not (etc / BACKUP).exists()


def test_cli_with_ami_unreachable_exits_1_and_touches_nothing(tmp_path):
    port = free_port()
    data = shipped_data()
    data["asterisk"]["ami"].update(port=port, secret="not-used")  # a secret here: no state file is created
    config = write_yaml(data, tmp_path / "config.yaml")
    etc, sounds = tmp_path / "etc", tmp_path / "sounds"
    etc.mkdir()
    sounds.mkdir()
    (etc / "extensions_hotline.conf").write_text("; the running plan\n", encoding="utf-8")
    before = snapshot(etc)
    run = subprocess.run([str(HOTLINE), "dialplan", "apply", "-c", str(config), "--etc", str(etc),
                          "--sounds", str(sounds)], capture_output=True, text=True, timeout=90)
    assert run.returncode == 1, run.stderr
    assert f"cannot reach AMI at 127.0.0.1:{port}; nothing applied" in run.stderr
    assert "not-used" not in run.stderr + run.stdout  # the secret is never printed
    assert snapshot(etc) == before
    assert not any(sounds.iterdir()), "prompts were installed although nothing could be applied"
