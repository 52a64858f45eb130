"""The speech engine: one shared Vosk model, a worker pool, one stream per call leg.

`SpeechEngine.open_stream()` gives a `Stream`; the telephony side calls
`feed(pcm)` with 8 kHz s16le audio as it arrives. `feed` only appends to the
stream's bounded backlog and returns: decoding happens on the worker threads
(Kaldi releases the GIL, so N workers use N cores). A worker takes a stream,
decodes up to `slice_seconds` of its backlog, and puts it back at the end of
the run queue, so streams share the cores in turn and batch jobs (files) run
only when no live audio waits.

Overload: when a stream's backlog exceeds `backlog_seconds` the workers are not
keeping up. The stream then degrades for the rest of the call: what is already
queued is still decoded, new audio goes to a WAV spool file (transcribed after
the call, when the workers are idle) or, without a spool dir, is skipped. The
caller learns it through `on_degraded(stream)` and `stream.degraded`; feeding
never waits either way.
"""
from __future__ import annotations

import collections
import itertools
import logging
import os
import queue
import re
import threading
import uuid
import wave
from pathlib import Path
from typing import Any, Callable

from ivr.safefile import create_private_file, private_dir
from ivr.speech import model as vmodel
from ivr.speech.batch import FileJob, Transcript, call_safely, write_sidecar
from ivr.speech.decoder import Decoder
from ivr.speech.endpoint import Endpointer
from ivr.speech.errors import SpeechUnavailable

log = logging.getLogger(__name__)

TextCallback = Callable[[str], None]
LIVE, BATCH, STOP = 0, 1, -1  # run-queue priorities: live audio first


class Stream:
    """One call leg's audio going through its own recognizer."""

    def __init__(self, engine: SpeechEngine, call_id: str, rate: int,
                 on_partial: TextCallback | None, on_final: TextCallback | None,
                 on_degraded: Callable[[Stream], None] | None,
                 on_spool_text: Callable[[str, Transcript], None] | None) -> None:
        self.engine, self.call_id, self.rate = engine, call_id, rate
        self._on_partial, self._on_final = on_partial, on_final
        self._on_degraded, self._on_spool_text = on_degraded, on_spool_text
        self._lock = threading.Lock()
        self._pending: collections.deque[bytes] = collections.deque()
        self._pending_bytes = 0
        self._max_pending = int(engine.backlog_seconds * rate) * 2
        self._scheduled = False
        self._closing = False
        self._done = threading.Event()
        self._decoder: Decoder | None = None
        self._endpointer = Endpointer(rate, engine.endpoint_silence) if engine.endpoint_silence else None
        self._since_partial = 0.0
        self._last_partial = ""
        self._finals: list[str] = []
        self._spool: wave.Wave_write | None = None
        self.degraded: str | None = None      # reason, once degraded
        self.spool_path: Path | None = None
        self.fed_seconds = 0.0
        self.decoded_seconds = 0.0
        self.skipped_seconds = 0.0            # audio neither decoded nor spooled

    # ---- caller side (never blocks on decoding) ----

    def feed(self, pcm: bytes) -> None:
        """Queue `pcm` (s16le mono at `rate`) for decoding; returns at once."""
        if not pcm:
            return
        degraded_now = False
        with self._lock:
            if self._closing:
                raise RuntimeError(f"stream {self.call_id} is closed")
            self.fed_seconds += len(pcm) / (2 * self.rate)
            if self.degraded is None and self._pending_bytes + len(pcm) > self._max_pending:
                self._degrade_locked("overload: decoding is behind by more than "
                                     f"{self.engine.backlog_seconds:g} s of audio")
                degraded_now = True
            if self.degraded is not None:
                self._spill_locked(pcm)
            else:
                self._pending.append(pcm)
                self._pending_bytes += len(pcm)
                self._schedule_locked()
        if degraded_now:
            self._notify_degraded()

    def close(self, timeout: float | None = None) -> str:
        """Decode what is queued, finish the last utterance; returns the call's text."""
        with self._lock:
            if not self._closing:
                self._closing = True
                if self._spool is not None:
                    self._spool.close()
                self._schedule_locked()
        if not self._done.wait(self.engine.close_timeout if timeout is None else timeout):
            log.warning("speech stream %s: close timed out, text may be incomplete", self.call_id)
        elif self.spool_path is not None:
            self.engine._after_call(self)
        return self.text

    @property
    def text(self) -> str:
        return " ".join(t for t in self._finals if t)

    @property
    def closed(self) -> bool:
        return self._done.is_set()

    # ---- worker side ----

    def _step(self) -> bool:
        """Decode one slice of backlog; True if the stream needs another turn."""
        limit = int(self.engine.slice_seconds * self.rate) * 2
        with self._lock:
            take, size = [], 0
            while self._pending and size < limit:
                chunk = self._pending.popleft()
                take.append(chunk)
                size += len(chunk)
            self._pending_bytes -= size
            finishing = not self._pending and (self._closing or self.degraded is not None)
        if self._decoder is None and not self._done.is_set():
            self._decoder = Decoder(self.engine.model, self.engine.info, self.rate)
        if take and self._decoder is not None:
            self._decode(b"".join(take))
        if finishing and self._decoder is not None:
            self._finish()
        with self._lock:
            if self._pending or (self._closing and not self._done.is_set()):
                return True
            self._scheduled = False
            return False

    def _decode(self, pcm: bytes) -> None:
        start = 0
        for cut in self._endpointer.push(pcm) if self._endpointer else ():
            # Our end of utterance: the final text now, not after Vosk's own 0.5-2 s wait.
            self._accept(pcm[start:cut], (cut - start) / (2 * self.rate))
            for result in self._decoder.cut():
                self._final(result["text"])
            start = cut
        self._accept(pcm[start:], (len(pcm) - start) / (2 * self.rate))

    def _accept(self, pcm: bytes, seconds: float) -> None:
        finals = self._decoder.accept(pcm) if pcm else []
        self.decoded_seconds += seconds
        self._since_partial += seconds
        for result in finals:
            self._final(result["text"])
        if not finals and self._since_partial >= self.engine.partial_interval:
            self._since_partial = 0.0
            partial = self._decoder.partial()
            if partial and partial != self._last_partial:
                self._last_partial = partial
                call_safely(self._on_partial, partial)

    def _finish(self) -> None:
        decoder, self._decoder = self._decoder, None
        for result in decoder.finish():
            self._final(result["text"])
        self.engine._forget(self)
        self._done.set()

    def _final(self, text: str) -> None:
        self._last_partial = ""
        self._since_partial = 0.0
        self._finals.append(text)
        call_safely(self._on_final, text)

    def _fail(self) -> None:
        """Decoding raised: stop live text for this stream, keep the call going."""
        with self._lock:
            first = self.degraded is None
            if first:
                self._degrade_locked("recognizer error")
            self._decoder = None
            self._scheduled = False
        self.engine._forget(self)
        self._done.set()
        if first:
            self._notify_degraded()

    # ---- degradation ----

    def _degrade_locked(self, reason: str) -> None:
        self.degraded = reason
        spool_dir = self.engine.spool_dir
        if spool_dir is None:
            return
        path = spool_dir / f"{_safe(self.call_id)}-{uuid.uuid4().hex[:8]}.wav"
        try:
            private_dir(spool_dir)  # callers' voices: 0700 folder, 0600 files
            create_private_file(path)
            w = wave.open(str(path), "wb")
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.rate)
        except OSError as exc:
            log.error("speech stream %s: cannot spool to %s (%s); skipping audio", self.call_id, path, exc)
            self.degraded += "; spool failed, audio skipped"
            return
        self._spool, self.spool_path = w, path

    def _spill_locked(self, pcm: bytes) -> None:
        if self._spool is not None:
            try:
                self._spool.writeframesraw(pcm)
                return
            except OSError as exc:
                log.error("speech stream %s: spool write failed (%s); skipping audio", self.call_id, exc)
                self._spool = None
        self.skipped_seconds += len(pcm) / (2 * self.rate)

    def _notify_degraded(self) -> None:
        where = f"spooling to {self.spool_path}" if self.spool_path else "skipping audio"
        log.warning("speech stream %s degraded (%s): %s", self.call_id, self.degraded, where)
        call_safely(self._on_degraded, self)

    def _schedule_locked(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            self.engine._put(LIVE, self)


class SpeechEngine:
    """Owns the model and the worker threads; hands out streams."""

    def __init__(self, model_path: str | Path, *, workers: int = 0, backlog_seconds: float = 3.0,
                 spool_dir: str | Path | None = None, slice_seconds: float = 0.2,
                 partial_interval: float = 0.3, close_timeout: float = 30.0,
                 endpoint_silence: float | None = None) -> None:
        self.model_path = model_path
        self.workers = workers or os.cpu_count() or 1
        self.backlog_seconds = backlog_seconds
        self.spool_dir = Path(spool_dir) if spool_dir else None
        self.slice_seconds = slice_seconds
        self.partial_interval = partial_interval
        self.close_timeout = close_timeout
        # Seconds of silence after speech that end an utterance (ivr.speech.endpoint);
        # None waits for Vosk's own endpoint (0.5-2 s).
        self.endpoint_silence = endpoint_silence
        self.model: Any = None
        self.info: vmodel.ModelInfo | None = None
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._seq = itertools.count()
        self._threads: list[threading.Thread] = []
        self._streams: set[Stream] = set()
        self._lock = threading.Lock()
        self._stopping = False

    @classmethod
    def from_config(cls, speech: Any, **kw: Any) -> SpeechEngine:
        """Build from `config.speech` (the `Speech` model); keywords override."""
        opts = {"workers": speech.workers, "backlog_seconds": speech.backlog_seconds,
                "spool_dir": speech.spool_dir or None,
                "endpoint_silence": getattr(speech, "endpoint_seconds", 0) or None}
        return cls(speech.model, **{**opts, **kw})

    def start(self) -> SpeechEngine:
        """Load the model (once) and start the workers; raises SpeechUnavailable."""
        with self._lock:
            if self._threads:
                return self
            if self._stopping:
                raise SpeechUnavailable("speech engine was shut down")
            self.model, self.info = vmodel.load(self.model_path)
            for i in range(self.workers):
                t = threading.Thread(target=self._work, name=f"speech-{i}", daemon=True)
                t.start()
                self._threads.append(t)
        return self

    def open_stream(self, call_id: str, on_partial: TextCallback | None = None,
                    on_final: TextCallback | None = None, *, rate: int = 8000,
                    on_degraded: Callable[[Stream], None] | None = None,
                    on_spool_text: Callable[[str, Transcript], None] | None = None) -> Stream:
        """A new recognizer stream for one call leg (starts the engine if needed)."""
        self.start()
        stream = Stream(self, call_id, rate, on_partial, on_final, on_degraded, on_spool_text)
        with self._lock:
            self._streams.add(stream)
        return stream

    def transcribe_file(self, path: str | Path, on_done: Callable[[Transcript], None] | None = None,
                        progress: Callable[[float], None] | None = None,
                        grammar: list[str] | None = None) -> FileJob:
        """Queue a recording for decoding at batch priority (restricted to `grammar`'s
        phrases when given); wait with job.result()."""
        self.start()
        job = FileJob(Path(path), self, on_done, progress, grammar)
        self._put(BATCH, job)
        return job

    @property
    def active_streams(self) -> int:
        with self._lock:
            return len(self._streams)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the workers; streams still open finish with the text they have."""
        with self._lock:
            self._stopping = True
            threads, self._threads = self._threads, []
            streams = list(self._streams)
        for _ in threads:
            self._put(STOP, None)
        for t in threads:
            t.join(timeout)
        for s in streams:
            s._done.set()

    # ---- internals ----

    def _put(self, priority: int, job: Any) -> None:
        self._queue.put_nowait((priority, next(self._seq), job))

    def _work(self) -> None:
        while True:
            priority, _, job = self._queue.get()
            if job is None or self._stopping:
                return
            try:
                again = job._step()
            except Exception:  # one bad stream or file must not kill a worker
                log.exception("speech job %s failed", getattr(job, "call_id", job))
                job._fail()
                again = False
            if again:
                self._put(priority, job)

    def _forget(self, stream: Stream) -> None:
        with self._lock:
            self._streams.discard(stream)

    def _after_call(self, stream: Stream) -> None:
        """Transcribe a degraded stream's spool file once the workers are idle."""
        def done(result: Transcript) -> None:
            write_sidecar(result)
            call_safely(stream._on_spool_text, stream.call_id, result)
        self.transcribe_file(stream.spool_path, on_done=done)


def _safe(call_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", call_id)[:80] or "call"
