"""Spoken answers on the server with the real Korean Vosk model and real SQLite (no Asterisk):
a good clip is decoded and stored, a damaged one is answer none, every clip is deleted."""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import time

import pytest

from callbacks import repo
from callbacks.models import ensure_tables
from callbacks.policy import Policy
from callbacks.spoken_service import SpokenAnswers
from callbacks.windows import CallingCalendar
from ivr.config.model import Config
from ivr.speech.engine import SpeechEngine
from ivr.storage.store import Store
from tests.support.speech_audio import convert, ko_model, speak

NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # Thursday, in the window


@pytest.fixture(scope="module")
def engine():
    e = SpeechEngine(ko_model(), workers=1).start()
    yield e
    e.shutdown()


def _setup(tmp_path, engine):
    config = Config.model_validate({
        "hotline": {"name": "测试热线"}, "speech": {"enabled": True},
        "callbacks": {"enabled": True, "calendars": [], "spoken": {"local_folder": str(tmp_path / "spoken"),
                                                                    "words": {"1": ["네"], "3": ["아니요"]}}}})
    store = Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    ensure_tables(store.engine)
    policy = Policy(config.callbacks, CallingCalendar.from_config(config.callbacks, "Asia/Shanghai"))
    ids = iter(f"cb-{i:024x}" for i in range(1, 100))
    store.run_sync(repo.add_task, policy, NOW, "survey", "13900000001", None, None)
    store.run_sync(repo.add_task, policy, NOW, "survey", "13900000002", None, None)
    claimed = store.run_sync(repo.claim_due, policy, NOW, "pstn", 0, lambda: next(ids))
    spoken = SpokenAnswers(config, store, lambda: NOW, lambda: engine)
    spoken.prepare()
    return spoken, [c["channel_id"] for c in claimed]


async def test_a_clip_is_decoded_to_its_key_and_a_damaged_one_is_none_both_deleted(tmp_path, engine):
    spoken, (good, bad) = _setup(tmp_path, engine)
    assert oct(spoken.folder.stat().st_mode & 0o777) == "0o700"
    convert(speak("아니요", tmp_path / "raw.wav"), spoken.folder / f"{good}-satisfaction.wav", 8000)
    (spoken.folder / f"{bad}-satisfaction.wav").write_bytes(b"RIFF not really a wav")
    spoken.on_event({"Id": good, "Question": "satisfaction"})
    spoken.on_event({"Id": bad, "Question": "satisfaction"})
    spoken.on_event({"Id": "cb-../../etc/passwd", "Question": "satisfaction"})  # ignored
    await asyncio.gather(spoken.settle(good), spoken.settle(bad))
    tasks = spoken.store.run_sync(repo.list_tasks)
    answers = {t["number"]: t["answers"]["satisfaction"] for t in tasks}
    assert answers["13900000001"]["key"] == "s3" and answers["13900000001"]["text"] == "不满意"
    assert answers["13900000001"]["heard"].strip() == "아니요"
    assert answers["13900000002"]["key"] == "none" and answers["13900000002"]["heard"] == ""
    assert list(spoken.folder.iterdir()) == []


def test_clips_left_from_before_a_restart_are_deleted_at_start(tmp_path, engine):
    spoken, (cid, _) = _setup(tmp_path, engine)
    old, fresh = spoken.folder / f"{cid}-satisfaction.wav", spoken.folder / f"{cid}-solved.wav"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(old, (time.time() - 600, time.time() - 600))
    spoken.prepare()
    assert not old.exists() and fresh.exists()
