"""`hotline asr check` and `hotline asr transcribe` with the real test model."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil

from ivr.cli import main as hotline
from ivr.speech.batch import sidecar_path
from ivr.storage import repo
from ivr.storage.store import Store
from tests.support.speech_audio import MAX_CER, call, cer, model_dir  # noqa: F401 (fixtures)


def test_check_reports_rate_load_memory_and_speed(model_dir, capsys):
    assert hotline(["asr", "check", str(model_dir), "--voice", "ko"]) == 0
    out = capsys.readouterr().out
    fields = dict(re.findall(r"^([a-z -]+):\s+(.*)$", out, re.MULTILINE))
    assert fields["model"] == str(model_dir)
    assert fields["sample rate"] == "16000 Hz"
    assert float(fields["load time"].split()[0]) >= 0
    assert re.fullmatch(r"[+-]\d+ MB RSS", fields["memory"])
    assert "espeak-ng -v ko" in fields["sample"] and "at 8 kHz" in fields["sample"]
    assert 0 < float(fields["real-time factor"]) < 5
    assert len(fields["text"].replace(" ", "")) > 5  # the sample was heard


def test_check_with_a_missing_model_fails_clearly(tmp_path, capsys):
    assert hotline(["asr", "check", str(tmp_path / "nope")]) == 2
    assert "no such directory" in capsys.readouterr().err


def test_transcribe_stores_results_next_to_recordings_and_with_the_call(model_dir, call, tmp_path, capsys):
    wav, _, reference = call
    recordings = tmp_path / "rec"
    recordings.mkdir()
    known = recordings / "1700000000.42.wav"
    shutil.copy(wav, known)
    shutil.copy(wav, recordings / "1700000000.43-agent.wav")          # no call record for it
    (recordings / "1700000000.44.wav").write_bytes(b"RIFF junk")       # damaged
    old = recordings / "1600000000.1.wav"
    shutil.copy(wav, old)
    os.utime(old, (1600000000, 1600000000))                           # September 2020

    db = tmp_path / "hotline.db"
    store = Store.open(f"sqlite:///{db}")
    store.run_sync(repo.upsert_call, "1700000000.42", {"caller": "13912345678"})
    store.close()
    config = tmp_path / "config.yaml"
    config.write_text(f"hotline:\n  name: test\nqueues:\n  - id: general\n    name: 12345\n"
                      f"database:\n  url: sqlite:///{db}\n"
                      f"speech:\n  model: {model_dir}\n  spool_dir: ''\n", encoding="utf-8")

    rc = hotline(["asr", "transcribe", "-c", str(config), "--dir", str(recordings), "--since", "2023-01-01"])
    err = capsys.readouterr().err
    assert rc == 1, err  # one damaged file
    assert "1700000000.44.wav: cannot read as WAV" in err
    assert "2 transcribed, 1 failed" in err and "100%" in err
    assert not sidecar_path(old).exists()  # before --since

    stored = json.loads(sidecar_path(known).read_text(encoding="utf-8"))
    assert cer(stored["text"], reference) <= MAX_CER
    assert stored["duration"] > 10 and len(stored["utterances"]) >= 2
    assert all(u["start"] < u["end"] for u in stored["utterances"])

    store = Store.open(f"sqlite:///{db}")
    try:
        events = store.run_sync(repo.call_events, "1700000000.42")
        assert [e["kind"] for e in events] == ["transcript"]
        assert events[0]["data"]["text"] == stored["text"]
        assert store.run_sync(repo.get_call, "1700000000.43") is None  # no call row invented
    finally:
        store.close()

    # Already transcribed files are skipped; --call picks one call's recordings.
    assert hotline(["asr", "transcribe", "-c", str(config), "--dir", str(recordings),
                    "--call", "1700000000.42"]) == 0
    assert "nothing to transcribe" in capsys.readouterr().err
    assert hotline(["asr", "transcribe", "-c", str(config), "--dir", str(recordings),
                    "--call", "1600000000.1"]) == 0
    assert sidecar_path(old).exists()
    assert dt.datetime.fromisoformat(json.loads(sidecar_path(old).read_text())["transcribed_at"])
