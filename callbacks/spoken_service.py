"""Spoken survey answers on the server: decode the clip Asterisk recorded, store the key, delete the clip.

The dialplan (dialplan_flows.SPEAK) records at most a few seconds when a
question got no key and reports `UserEvent(HotlineSpoken, Id: <attempt>,
Question: <id>)`. Here the clip's path is rebuilt from those two checked
ids (never taken from the event), decoded off the event loop by the speech
engine's workers at batch priority (live calls first, as for 质检), with
Vosk restricted to the question's phrases; `spoken.spoken_key` turns the
text into a key, stored like a pressed one ("s1", with the text heard).
Nothing recognised, no speech engine, a damaged clip: stored as no answer
("none"), that answer only. The clip is deleted in every case (privacy).
The engine waits for a pending decode before it closes the attempt, so the
result a work-order system fetches (or is pushed) already holds the answer.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable

from callbacks import repo
from callbacks.spoken import clip_name, grammar, spoken_key, words_for
from ivr.safefile import PRIVATE_DIR, SECRET_MODE

log = logging.getLogger(__name__)

CLIP_WAIT_S = 3.0     # Record() closes the file before the event; a slow disk gets this long
DECODE_TIMEOUT_S = 30.0
SETTLE_TIMEOUT_S = 40.0
STALE_S = 120.0      # a clip this old at start lost its event to a restart


def spoken_folder(config) -> Path:
    """Where this process reads what Asterisk's Record() writes to `callbacks.spoken.folder`."""
    sp = config.callbacks.spoken
    if sp.local_folder:
        return Path(sp.local_folder)
    return Path(config.asterisk.root) / sp.folder.lstrip("/") if config.asterisk.embedded else Path(sp.folder)


class SpokenAnswers:
    def __init__(self, config, store, clock, speech: Callable[[], Any]) -> None:
        self.cb, self.store, self.clock = config.callbacks, store, clock
        self.folder = spoken_folder(config)
        self.speech = speech          # the running SpeechEngine, or None (speech unavailable)
        self.pending: dict[str, set[asyncio.Task]] = {}

    def prepare(self) -> None:
        """The clip folder, 0700, owned like its parent: Asterisk's spool (Record() writes there,
        as the Asterisk user), read and emptied by this server (docs/callbacks.md)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
            parent = self.folder.parent.stat()
            if os.geteuid() == 0 and self.folder.stat().st_uid != parent.st_uid:
                os.chown(self.folder, parent.st_uid, parent.st_gid)
            os.chmod(self.folder, PRIVATE_DIR)
            self.sweep()
        except OSError as exc:  # Asterisk's own folder: it may be ours to read but not to create
            log.warning("callbacks: spoken answers folder %s: %s", self.folder, exc.strerror)

    def sweep(self, older_than_s: float = STALE_S) -> int:
        """Delete clips nobody will decode (recorded while the server was down): no voice kept."""
        gone, now = 0, time.time()
        for clip in self.folder.glob("cb-*.wav"):
            if now - clip.stat().st_mtime > older_than_s:
                clip.unlink(missing_ok=True)
                gone += 1
        if gone:
            log.info("callbacks: deleted %d spoken clip(s) left from before the start", gone)
        return gone

    def on_event(self, ev) -> None:
        """UserEvent HotlineSpoken: decode and store in the background (ids checked first)."""
        cid, question = str(ev.get("Id", "")), str(ev.get("Question", ""))
        if clip_name(cid, question) is None:
            log.warning("callbacks: spoken answer event with bad ids ignored")
            return
        t = asyncio.create_task(self.answer(cid, question))
        self.pending.setdefault(cid, set()).add(t)
        t.add_done_callback(lambda _t: self._done(cid, _t))

    def _done(self, cid: str, t: asyncio.Task) -> None:
        tasks = self.pending.get(cid, set())
        tasks.discard(t)
        if not tasks:
            self.pending.pop(cid, None)

    async def settle(self, cid: str) -> None:
        """Wait (bounded) for the attempt's spoken answers still being decoded."""
        tasks = list(self.pending.get(cid, ()))
        if tasks:
            await asyncio.wait(tasks, timeout=SETTLE_TIMEOUT_S)

    async def stop(self) -> None:
        tasks = [t for ts in self.pending.values() for t in ts]
        if tasks:
            await asyncio.wait(tasks, timeout=SETTLE_TIMEOUT_S)

    async def answer(self, cid: str, question: str) -> dict | None:
        path = self.folder / clip_name(cid, question)
        try:
            ours, campaign = await self.store.run(repo.campaign_of, cid)
            if not ours:
                return None
            words = words_for(self.cb.campaigns, campaign, question, self.cb.spoken.words)
            text = await self._decode(path, words) if words else ""
            key = spoken_key(text, words) if text else None
            log.info("callbacks: spoken answer to %s of %s: %s", question, cid, key or "none")
            return await self.store.run(repo.store_answer, cid, question, key or "none", self.cb.campaigns,
                                        self.clock(), text)
        except Exception:  # one bad clip must not lose the others, nor the call's attempt
            log.exception("callbacks: spoken answer to %s of %s failed: stored as none", question, cid)
            return await self.store.run(repo.store_answer, cid, question, "none", self.cb.campaigns,
                                        self.clock(), "")
        finally:
            path.unlink(missing_ok=True)

    async def _decode(self, path: Path, words: dict[str, list[str]]) -> str:
        engine = self.speech()
        if engine is None:
            log.warning("callbacks: speech engine not running: spoken answer stored as none")
            return ""
        for _ in range(int(CLIP_WAIT_S / 0.1)):
            if path.exists():
                break
            await asyncio.sleep(0.1)
        if not path.exists():
            log.warning("callbacks: no clip %s (the caller hung up before it began?)", path.name)
            return ""
        os.chmod(path, SECRET_MODE)
        job = engine.transcribe_file(path, grammar=grammar(words))
        result = await asyncio.get_running_loop().run_in_executor(None, job.result, DECODE_TIMEOUT_S)
        return result.text
