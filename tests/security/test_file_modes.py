"""What callers leave on disk is the service's alone: the SQLite database (and its
WAL files), the speech spool and its transcripts are 0600 in 0700 folders,
whatever the umask; Asterisk's own logs sit in a folder only the Asterisk user
(and its group) can enter."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from ivr.config.loader import load_config
from ivr.dialplan.build import instance_files
from ivr.speech.batch import sidecar_path
from ivr.speech.engine import SpeechEngine
from ivr.storage import migrations
from ivr.storage.db import make_engine
from tests.support.asterisk_harness import free_port, new_instance
from tests.support.speech_audio import FRAME, call, model_dir  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int):
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def test_sqlite_database_and_its_new_folders_are_private(tmp_path):
    folder = tmp_path / "state" / "db"
    with umask(0o022):
        engine = make_engine(f"sqlite:///{folder}/hotline.db")
        migrations.upgrade(engine)
        with engine.begin() as conn:  # a write, so the WAL and shared-memory files exist
            conn.execute(text("CREATE TABLE probe (x TEXT)"))
            conn.execute(text("INSERT INTO probe VALUES ('13912345678')"))
            files = sorted(p.name for p in folder.iterdir())
            assert {"hotline.db", "hotline.db-wal", "hotline.db-shm"} <= set(files), files
            for name in files:
                assert mode(folder / name) == 0o600, (name, oct(mode(folder / name)))
        engine.dispose()
    assert mode(folder) == 0o700 and mode(folder.parent) == 0o700


def test_an_existing_shared_folder_is_not_closed(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    engine = make_engine(f"sqlite:///{shared}/h.db")
    migrations.upgrade(engine)
    engine.dispose()
    assert mode(shared) == 0o755
    assert mode(shared / "h.db") == 0o600


def test_speech_spool_and_its_transcripts_are_private(call, model_dir, tmp_path):  # noqa: F811
    _, audio, _ = call
    spool = tmp_path / "var" / "speech-spool"
    done = threading.Event()
    with umask(0o022):
        eng = SpeechEngine(model_dir, workers=1, backlog_seconds=0.5, spool_dir=spool).start()
        try:
            stream = eng.open_stream("1700000000.9", on_spool_text=lambda *_: done.set())
            for i in range(0, len(audio), FRAME):  # far faster than real time: it spools
                stream.feed(audio[i:i + FRAME])
            assert stream.spool_path is not None, stream.degraded
            stream.close()
            assert done.wait(120), "the spooled audio was never transcribed"
            deadline = time.monotonic() + 10
            while not sidecar_path(stream.spool_path).exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            eng.shutdown()
    assert mode(spool) == 0o700 and mode(spool.parent) == 0o700
    wav, side = stream.spool_path, sidecar_path(stream.spool_path)
    assert mode(wav) == 0o600, oct(mode(wav))
    assert mode(side) == 0o600, oct(mode(side))
    assert json.loads(side.read_text(encoding="utf-8"))["text"]
    assert sorted(p.name for p in spool.iterdir()) == sorted([wav.name, side.name]), "temp files left"


@pytest.mark.asterisk
def test_asterisk_logs_and_recordings_are_closed_to_others():
    inst = new_instance("modes", free_port())
    inst.write_config(instance_files(load_config(REPO / "config.yaml"), "center"))
    try:
        with umask(0o022):
            inst.start()
        inst.rx("logger reload")
        uid, gid = inst.asterisk_owner()
        for sub in ("log", "recordings", "spool", "lib"):
            st = (inst.host / sub).stat()
            assert (st.st_uid, st.st_gid) == (uid, gid), sub
            assert stat.S_IMODE(st.st_mode) & 0o007 == 0, f"{sub}/ is open to others: {oct(st.st_mode)}"
        assert mode(inst.host / "recordings") == 0o700
        written = [p for p in (inst.host / "log").rglob("*") if p.is_file() and p.name != "console.log"]
        assert written, "Asterisk wrote no log file"
        # queue_log would hold every caller's full number (ENTERQUEUE): it is off
        assert not (inst.host / "log" / "queue_log").exists()
        for path in written:  # messages.log: created by Asterisk itself
            assert path.stat().st_uid == uid, path
            assert mode(path) & 0o007 == 0, f"{path.name} is world-readable: {oct(mode(path))}"
    finally:
        inst.remove()


def test_dialplan_build_keeps_pjsip_files_private(tmp_path):
    out = tmp_path / "generated"
    run = subprocess.run([sys.executable, "-m", "ivr.cli", "dialplan", "build", "-c", str(REPO / "config.yaml"),
                          "-o", str(out)], capture_output=True, text=True, timeout=120,
                         preexec_fn=lambda: os.umask(0o022))
    assert run.returncode == 0, run.stderr
    pjsip = sorted(out.glob("pjsip_*.conf"))
    assert pjsip, sorted(p.name for p in out.iterdir())
    for path in out.iterdir():
        want = 0o600 if path.name.startswith("pjsip") else 0o640
        assert mode(path) == want, (path.name, oct(mode(path)))
