"""The recording service of `hotline serve`: files -> metadata rows, retention, quality inspection.

It reads AMI events itself (not the call tracker's internals):
  UserEvent HotlineRecording   the dialplan started MixMonitor on a channel (its Uniqueid, the file id)
  AgentConnect                 who answered that channel from a queue (playback rights)
  Hold / Unhold                the agent's hold time (QA rule `hold`)
  Hangup                       the recorded channel ended: wait (bounded) for Asterisk to close
                               the files, build the stereo file, write the row (size, sha256)
A purge task deletes expired files every `purge_every` s (each deletion audited),
and the QA worker (recordings/qa_worker.py) scores new recordings in the background.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ivr.ami.agent_id import agent_id
from ivr.config.model import Config
from ivr.waits import stop_task
from recordings import files, repo
from recordings.dialplan import EVENT
from recordings.models import ensure_tables

log = logging.getLogger("recordings")


def local_folder(config: Config) -> Path:
    """Where this process reads what Asterisk writes to `recordings.folder`."""
    rec = config.recordings
    if rec.local_folder:
        return Path(rec.local_folder)
    if config.asterisk.embedded:  # the embedded Asterisk runs in a chroot
        return Path(config.asterisk.root) / rec.folder.lstrip("/")
    return Path(rec.folder)


@dataclass
class Pending:
    rec_id: str
    call_id: str
    kind: str
    line: str
    queue: str
    started_at: dt.datetime
    agents: list[str] = field(default_factory=list)
    legs: list[dict[str, Any]] = field(default_factory=list)
    hold: float = 0.0
    hold_since: float | None = None


class RecordingService:
    def __init__(self, config: Config, store: Any, ami: Any, clock: Callable[[], dt.datetime]) -> None:
        self.config, self.store, self.ami, self.clock = config, store, ami, clock
        self.rec = config.recordings
        self.folder = local_folder(config)
        self.pending: dict[str, Pending] = {}          # recorded channel Uniqueid -> what we know
        self._agent_legs: dict[str, str] = {}          # agent channel Uniqueid -> recorded Uniqueid
        self._tasks: set[asyncio.Task] = set()
        self._purger: asyncio.Task | None = None
        self.failed = 0                                 # recordings that could not be finished
        self.qa: Any = None                             # recordings.qa_worker.QaWorker when qa.enabled

    @classmethod
    def from_services(cls, services: Any) -> RecordingService | None:
        c = services.config
        if not c.recordings.enabled or services.store is None or services.ami is None:
            return None
        return cls(c, services.store, services.ami, services.clock)

    async def start(self) -> None:
        ensure_tables(self.store.engine)
        for name, handler in (("UserEvent", self._on_user_event), ("AgentConnect", self._on_agent_connect),
                              ("Hold", self._on_hold), ("Unhold", self._on_unhold), ("Hangup", self._on_hangup)):
            self.ami.on(name, handler)
        self._purger = asyncio.create_task(self._purge_loop(), name="recordings-purge")
        log.info("recordings: %s, kept %d days", self.folder, self.rec.retention_days)

    async def stop(self) -> None:
        purger, self._purger = self._purger, None
        await stop_task(purger)
        await asyncio.gather(*self._tasks, return_exceptions=True)  # finishing files complete (bounded waits)

    # -- events ----------------------------------------------------------------------------
    def _on_user_event(self, ev: Any) -> None:
        if ev.get("UserEvent") != EVENT:
            return
        uid, rec_id = str(ev.get("Uniqueid", "")), str(ev.get("Id", ""))
        try:
            files.checked_id(rec_id)
        except files.BadId:
            log.warning("recordings: ignoring a malformed id from AMI")
            return
        self.pending[uid] = Pending(rec_id, str(ev.get("Linkedid", "")), str(ev.get("Kind", ""))[:16] or "queue",
                                    str(ev.get("Line", ""))[:64], str(ev.get("Queue", ""))[:64], self.clock())

    def _on_agent_connect(self, ev: Any) -> None:
        p = self.pending.get(str(ev.get("Uniqueid", "")))
        who = agent_id(str(ev.get("Interface") or ev.get("DestChannel") or ""))
        if p is None or not who:
            return
        if who not in p.agents:
            p.agents.append(who)
        at = (self.clock() - p.started_at).total_seconds()
        p.legs.append({"kind": "agent", "who": who, "queue": str(ev.get("Queue", "")).removeprefix("hotline-")[:64],
                       "at": round(at, 1)})
        if ev.get("DestUniqueid"):
            self._agent_legs[str(ev["DestUniqueid"])] = str(ev["Uniqueid"])

    def _held(self, ev: Any) -> Pending | None:
        uid = str(ev.get("Uniqueid", ""))
        return self.pending.get(uid) or self.pending.get(self._agent_legs.get(uid, ""))

    def _on_hold(self, ev: Any) -> None:
        p = self._held(ev)
        if p is not None and p.hold_since is None:
            p.hold_since = asyncio.get_running_loop().time()

    def _on_unhold(self, ev: Any) -> None:
        p = self._held(ev)
        if p is not None and p.hold_since is not None:
            p.hold += asyncio.get_running_loop().time() - p.hold_since
            p.hold_since = None

    def _on_hangup(self, ev: Any) -> None:
        uid = str(ev.get("Uniqueid", ""))
        if uid in self._agent_legs:
            self._on_unhold(ev)
            self._agent_legs.pop(uid, None)
        p = self.pending.pop(uid, None)
        if p is None:
            return
        self._on_unhold({"Uniqueid": uid})
        task = asyncio.create_task(self.finish(p), name=f"recording-{p.rec_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- files -> rows -----------------------------------------------------------------------
    async def finish(self, p: Pending) -> dict | None:
        """Wait for Asterisk to close the files (bounded), build the stereo file, write the row."""
        parts = files.parts(self.folder, p.rec_id)
        complete = await files.wait_closed([parts.caller, parts.agent], self.rec.finish_wait)
        try:
            written = await asyncio.to_thread(files.finish, parts)
        except OSError:
            self.failed += 1
            log.exception("recordings: %s could not be finished", p.rec_id)
            return None
        if written is None and not p.agents:
            return None  # nobody answered (abandoned in the queue, forward not answered): nothing was recorded
        now = self.clock()
        row = {"rec_id": p.rec_id, "call_id": p.call_id, "file": parts.stereo.name, "kind": p.kind,
               "line": p.line or None, "queue": p.queue or None, "agents": p.agents,
               "legs": {"legs": p.legs, "hold": round(p.hold, 1)}, "started_at": p.started_at, "ended_at": now,
               "duration": written.duration if written else 0.0, "size": written.size if written else 0,
               "sha256": written.sha256 if written else "",
               "status": "missing" if written is None else "ok" if complete else "incomplete",
               "expires_at": now + dt.timedelta(days=self.rec.retention_days)}
        if not complete:
            log.warning("recordings: %s not closed by Asterisk within %.0f s; kept what was written",
                        p.rec_id, self.rec.finish_wait)
        saved = await self.store.run(repo.add, row)
        if self.qa is not None and saved["status"] != "missing":
            self.qa.wake()
        return saved

    async def recover(self, min_age: float = 120.0) -> list[str]:
        """Finish recordings whose Hangup this server never saw (it was down or AMI was cut).

        Mono files no live channel owns, closed by Asterisk and untouched for
        `min_age` s, become a row like any other (kind "recovered"; who answered
        is unknown, so only supervisors can play them)."""
        live = {p.rec_id for p in self.pending.values()}
        done: list[str] = []
        now = time.time()
        for caller in sorted(self.folder.glob("*.caller.wav")) if self.folder.is_dir() else []:
            rec_id = caller.name.removesuffix(".caller.wav")
            if rec_id in live or not files.ID_RE.match(rec_id) or now - caller.stat().st_mtime < min_age:
                continue
            if not files.closed(caller) or caller.stat().st_size <= files.HEADER:
                continue  # still written, or only a header: a caller may still wait in a queue (`b`: no audio yet)
            call_id = rec_id.split("-", 1)[0]
            started = dt.datetime.fromtimestamp(caller.stat().st_ctime, dt.timezone.utc)
            if await self.finish(Pending(rec_id, call_id, "recovered", "", "", started)):
                done.append(rec_id)
        if done:
            log.warning("recordings: %d recording(s) finished after the fact (their hangup was missed)", len(done))
        return done

    # -- retention ---------------------------------------------------------------------------
    async def _purge_loop(self) -> None:
        while True:
            try:
                await self.recover()
                await purge(self.store, self.folder, self.clock())
            except Exception:  # one failed run must not end retention
                log.exception("recordings: purge failed")
            await asyncio.sleep(self.rec.purge_every)


async def purge(store: Any, folder: Path, now: dt.datetime) -> list[str]:
    """Delete every expired recording's file and mark its row (audited, one row per deletion); returns rec ids."""
    gone: list[str] = []
    for row in await store.run(repo.expired, now):
        path = files.parts(folder, row["rec_id"]).stereo
        try:
            existed = path.exists()
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.error("recordings: cannot delete expired %s: %s", row["rec_id"], exc)
            continue
        await store.run(repo.mark_deleted, row["id"], now, {"file": row["file"], "existed": existed,
                                                              "size": row["size"], "sha256": row["sha256"]})
        gone.append(row["rec_id"])
    if gone:
        log.info("recordings: %d expired recording(s) deleted", len(gone))
    return gone
