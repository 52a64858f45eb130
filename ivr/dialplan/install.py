"""Putting a set of config files into an Asterisk etc folder as one transaction.

`dialplan apply` must never leave a half-installed set, whatever stops it: a
failed write, a failed reload, a cancelled task, Ctrl-C, or a killed process.

- One apply at a time per folder: an flock on `.hotline-apply.lock` there
  (flock, not fcntl record locks, so two applies in one process exclude each
  other too). A second apply waits, then fails with a clear message.
- Before the first file changes, the files about to be replaced are copied
  into a fresh folder (created exclusively, 0700) that then replaces
  `.hotline-previous` in one rename: the backup is always a whole set, and it
  is the last set that ran.
- A `.hotline-apply.pending` marker lives exactly as long as the folder may
  hold a mixed set. If a process dies with it in place, the next apply first
  puts the backup back.
- Every file goes through `write_atomic` (random temp name created with
  O_EXCL in the folder: a planted symlink is never followed; mode and owner
  set before the content; rename).
"""
from __future__ import annotations

import asyncio
import fcntl
import json
import os
import shutil
import stat
import tempfile
import time
from contextlib import asynccontextmanager
from pathlib import Path

from ivr.safefile import CONFIG_MODE, SECRET_MODE, secret_file, write_atomic

LOCK = ".hotline-apply.lock"
BACKUP = ".hotline-previous"
PENDING = ".hotline-apply.pending"
MANIFEST = "manifest.json"  # in BACKUP: {"absent": [names that did not exist before]}


class LockBusy(RuntimeError):
    pass


@asynccontextmanager
async def locked(etc: Path, wait: float):
    """Hold the apply lock of `etc`; LockBusy after `wait` seconds of someone else holding it."""
    path = etc / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise LockBusy(f"cannot open the lock file {path}: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockBusy(f"another `hotline dialplan apply` holds {path} "
                                   f"(waited {wait:.0f} s)") from None
                await asyncio.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def _meta(path: Path, folder: os.stat_result) -> tuple[int, tuple[int, int]]:
    """(mode, (uid, gid)) for a file written at `path`: the old file's, never world-readable
    for secrets; a new file gets the folder's owner, 0600 for secrets (0640 when the folder is
    root's and only Asterisk's group can read it), 0640 otherwise."""
    try:
        st = path.lstat()
        if stat.S_ISREG(st.st_mode):
            mode = stat.S_IMODE(st.st_mode) & (0o770 if secret_file(path.name) else 0o777)
            return mode, (st.st_uid, st.st_gid)
    except FileNotFoundError:
        pass
    owner = (folder.st_uid, folder.st_gid)
    if not secret_file(path.name):
        return CONFIG_MODE, owner
    return (CONFIG_MODE if folder.st_uid == 0 and folder.st_gid != 0 else SECRET_MODE), owner


class Installation:
    """The files of one apply, what they replace, and how to undo it."""

    def __init__(self, etc: Path, files: dict[str, str]):
        self.etc, self.files = etc, files
        self.previous: dict[str, bytes | None] = {}
        self.meta: dict[str, tuple[int, tuple[int, int]]] = {}
        folder = etc.stat()
        for name in files:
            path = etc / name
            self.meta[name] = _meta(path, folder)
            self.previous[name] = path.read_bytes() if path.is_file() else None

    def save_backup(self) -> None:
        """The files about to be replaced, as one whole folder, swapped in by rename."""
        fresh = Path(tempfile.mkdtemp(dir=self.etc, prefix=f"{BACKUP}."))
        try:
            for name, old in self.previous.items():
                if old is not None:
                    mode, owner = self.meta[name]
                    write_atomic(fresh / name, old, mode, owner)
            absent = sorted(n for n, old in self.previous.items() if old is None)
            write_atomic(fresh / MANIFEST, json.dumps({"absent": absent}), SECRET_MODE)
            backup = self.etc / BACKUP
            stale = None
            if backup.is_symlink() or backup.exists():
                stale = Path(tempfile.mkdtemp(dir=self.etc, prefix=f"{BACKUP}.old.")) / "x"
                os.rename(backup, stale)
            os.rename(fresh, backup)
        except BaseException:
            _remove(fresh)
            raise
        if stale is not None:
            _remove(stale.parent)

    def write(self) -> None:
        write_atomic(self.etc / PENDING, "", SECRET_MODE)
        for name, text in self.files.items():
            mode, owner = self.meta[name]
            write_atomic(self.etc / name, text, mode, owner)

    def restore(self) -> None:
        """Put back what was there before; new files are removed."""
        for name, old in self.previous.items():
            if old is None:
                (self.etc / name).unlink(missing_ok=True)
            else:
                mode, owner = self.meta[name]
                write_atomic(self.etc / name, old, mode, owner)
        self.done()

    def done(self) -> None:
        (self.etc / PENDING).unlink(missing_ok=True)


def recover(etc: Path) -> list[str]:
    """After an apply that died mid-way (PENDING left): put the backup set back. Names restored."""
    if not (etc / PENDING).exists():
        return []
    backup = etc / BACKUP
    restored = []
    if backup.is_dir() and not backup.is_symlink():
        absent = json.loads((backup / MANIFEST).read_text()).get("absent", [])
        for path in sorted(backup.iterdir()):
            if path.name != MANIFEST and path.is_file() and not path.is_symlink():
                st = path.stat()
                write_atomic(etc / path.name, path.read_bytes(), stat.S_IMODE(st.st_mode), (st.st_uid, st.st_gid))
                restored.append(path.name)
        for name in absent:
            if "/" not in name and (etc / name).is_file():
                (etc / name).unlink()
                restored.append(name)
    (etc / PENDING).unlink()
    return restored


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)
