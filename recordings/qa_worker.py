"""The QA worker: transcribe both sides of each new recording and score it (recordings/qa.py).

Never delays a live call: transcription runs on the speech engine's workers at
batch priority (ivr/speech/engine.py: live streams always go first) and this
worker has at most one recording in flight (`recordings.qa.workers` sides at
once). With live speech on it shares that engine; otherwise it loads its own
(`speech.model`, or the packaged test model) the first time there is work.
What is still unscored is found in the database, so a restart or a backlog
loses nothing: `hotline qa run` scores the same rows from the command line.
"""
from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ivr.waits import stop_task, wait_event
from ivr.config.recordings_model import QaRules
from recordings import files, qa, repo

log = logging.getLogger("recordings.qa")
IDLE_POLL = 30.0


def model_path(config: Any) -> Path | None:
    from ivr.speech import model as vmodel

    return Path(config.speech.model) if config.speech.model else vmodel.default_model()


def _wait(job: Any, deadline: float, stop: threading.Event | None) -> Any:
    """The job's transcript; TimeoutError at the deadline or as soon as `stop` is set (server stopping)."""
    while True:
        try:
            return job.result(0.2)
        except TimeoutError:
            if (stop is not None and stop.is_set()) or time.monotonic() > deadline:
                raise


def transcribe_and_score(engine: Any, folder: Path, row: dict, rules: QaRules, timeout: float = 600,
                         stop: threading.Event | None = None) -> tuple[dict, dict, str]:
    """(score json, transcript json, model) of one recording; blocking (a thread or the CLI)."""
    stereo = files.parts(folder, row["rec_id"]).stereo
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryDirectory(prefix="hotline-qa-") as tmp:  # 0700: transcripts are personal data
        caller_wav, agent_wav = files.split(stereo, Path(tmp))
        jobs = [engine.transcribe_file(caller_wav), engine.transcribe_file(agent_wav)]
        caller_t, agent_t = (_wait(j, deadline, stop) for j in jobs)
    caller, agent = qa.utterances(caller_t.utterances), qa.utterances(agent_t.utterances)
    hold = float((row.get("legs") or {}).get("hold") or 0)
    result = qa.score(caller, agent, row["duration"], rules, hold).to_json()
    transcript = {side: [{"start": s.start, "end": s.end, "text": s.text} for s in said]
                  for side, said in (("caller", caller), ("agent", agent))}
    return result, transcript, str(caller_t.model)


class QaWorker:
    def __init__(self, service: Any, engine: Any = None) -> None:
        self.service, self.store, self.clock = service, service.store, service.clock
        self.rules = service.rec.qa
        self.engine, self._own_engine = engine, engine is None
        self._wake = asyncio.Event()
        self._stop = threading.Event()  # wakes a transcription thread waiting on the engine
        self._task: asyncio.Task | None = None
        self.scored = 0

    @classmethod
    def for_service(cls, service: Any, services: Any) -> QaWorker:
        speech = services.speech
        return cls(service, getattr(speech, "engine", None))

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="recordings-qa")

    async def stop(self) -> None:
        self._stop.set()
        await stop_task(self._task)
        if self._own_engine and self.engine is not None:
            await asyncio.to_thread(self.engine.shutdown)

    def wake(self) -> None:
        self._wake.set()

    async def _engine(self) -> Any:
        if self.engine is None:
            from ivr.speech.engine import SpeechEngine

            path = model_path(self.service.config)
            if path is None:
                raise RuntimeError("no speech model for quality inspection (set speech.model)")
            self.engine = await asyncio.to_thread(SpeechEngine(path, workers=self.rules.workers).start)
        return self.engine

    async def _run(self) -> None:
        while True:
            try:
                while await self.score_next():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad file or a missing model: logged, retried on the next wake
                log.exception("recordings: quality inspection failed")
            await wait_event(self._wake, IDLE_POLL)
            self._wake.clear()

    async def score_next(self) -> bool:
        rows = await self.store.run(repo.unscored, 1)
        if not rows:
            return False
        row = rows[0]
        engine = await self._engine()
        try:
            result, transcript, model = await asyncio.to_thread(
                transcribe_and_score, engine, self.service.folder, row, self.rules, stop=self._stop)
        except TimeoutError:  # stopping, or the engine is swamped: left unscored, tried again later
            log.warning("recordings: %s not transcribed in time; will retry", row["rec_id"])
            return False
        except (OSError, ValueError) as exc:
            log.error("recordings: %s cannot be scored: %s", row["rec_id"], exc)
            result, transcript, model = {"score": 0, "rules": [], "error": str(exc)[:200]}, {}, ""
        await self.store.run(repo.save_qa, row["id"], result, transcript, model, self.clock())
        self.scored += 1
        return True
