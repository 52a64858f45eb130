"""`hotline recordings purge|list` and `hotline qa run|rerun|show` on a real database and real files;
`qa run` with the real recognizer (the Korean test model) on a stereo recording whose right channel
(the agent) speaks and whose left (the caller) is silent."""
from __future__ import annotations

import datetime as dt
import json
import wave

import numpy as np
import pytest

from ivr.cli import main as hotline
from ivr.storage import repo as core
from ivr.storage.store import Store
from recordings import files, repo
from recordings.models import ensure_tables
from tests.support.speech_audio import SENTENCES, convert, pcm, speak

NOW = dt.datetime.now(dt.timezone.utc)


@pytest.fixture
def site(tmp_path):
    folder = tmp_path / "rec"
    folder.mkdir()
    cfg = tmp_path / "config.yaml"
    cfg.write_text("hotline: {name: 测试12345}\nqueues: [{id: general, name: 综合}]\n"
                   f"recordings: {{enabled: true, local_folder: {folder}}}\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path}/h.db"
    store = Store.open(url)
    ensure_tables(store.engine)
    yield cfg, url, folder, store
    store.close()


def _recording(store, folder, rec_id: str, expires: dt.datetime, left: bytes, right: bytes) -> dict:
    n = max(len(left), len(right)) // 2
    both = np.zeros((n, 2), dtype="<i2")
    both[: len(left) // 2, 0] = np.frombuffer(left, dtype="<i2")
    both[: len(right) // 2, 1] = np.frombuffer(right, dtype="<i2")
    path = files.parts(folder, rec_id).stereo
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(both.tobytes())
    return store.run_sync(repo.add, {
        "rec_id": rec_id, "call_id": rec_id.split("-")[0], "file": path.name, "kind": "queue", "agents": ["a1"],
        "legs": {"legs": [], "hold": 0}, "started_at": NOW, "ended_at": NOW, "duration": n / 8000,
        "size": path.stat().st_size, "sha256": files.sha256_of(path), "status": "ok", "expires_at": expires})


def test_purge_deletes_only_expired_and_audits(site, capsys):
    cfg, url, folder, store = site
    old = _recording(store, folder, "100.1-100.1", NOW - dt.timedelta(days=1), b"\0\0" * 800, b"")
    new = _recording(store, folder, "200.1-200.1", NOW + dt.timedelta(days=1), b"\0\0" * 800, b"")
    assert hotline(["recordings", "purge", "-c", str(cfg), "--url", url, "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"expired": [old["rec_id"]]}
    assert (folder / old["file"]).exists()
    assert hotline(["recordings", "purge", "-c", str(cfg), "--url", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"deleted": [old["rec_id"]]}
    assert not (folder / old["file"]).exists() and (folder / new["file"]).exists()
    audit = store.run_sync(core.audit_entries, record_type="recording")
    assert [(a["actor"], a["action"], a["record_id"]) for a in audit] == [(repo.PURGE_ACTOR, "delete", old["rec_id"])]


def test_qa_run_transcribes_each_side_and_show_prints_evidence(site, tmp_path, capsys):
    cfg, url, folder, store = site
    voice = pcm(convert(speak(SENTENCES[0], tmp_path / "s.wav"), tmp_path / "s8.wav", 8000))
    rec = _recording(store, folder, "300.1-300.1", NOW + dt.timedelta(days=1), b"\0\0" * (len(voice) // 2), voice)
    assert hotline(["qa", "run", "-c", str(cfg), "--url", url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in out] == [rec["id"]]
    qa = store.run_sync(repo.get_qa, rec["id"])
    assert qa["transcript"]["caller"] == []                 # the silent left channel
    assert len("".join(u["text"] for u in qa["transcript"]["agent"]).replace(" ", "")) > 5  # the agent spoke
    # Korean words are no Chinese greeting: the rule fails with the agent's first words as evidence
    greeting = next(r for r in qa["rules"] if r["rule"] == "greeting")
    assert not greeting["passed"] and greeting["evidence"][0]["side"] == "agent"

    assert hotline(["qa", "show", str(rec["id"]), "-c", str(cfg), "--url", url]) == 0
    shown = capsys.readouterr().out
    assert f"score {qa['score']}" in shown and "✗ greeting" in shown
    assert [a["action"] for a in store.run_sync(core.audit_entries, record_type="recording")] == ["qa_show"]

    assert hotline(["qa", "rerun", "-c", str(cfg), "--url", url]) == 2
    assert hotline(["qa", "run", "-c", str(cfg), "--url", url]) == 0  # nothing left to score
    assert "nothing to score" in capsys.readouterr().err
