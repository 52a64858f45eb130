"""One way to write a file that another user or a crash must never see half of.

Every writer of Asterisk config (the embedded instances, `dialplan apply`, the
AMI secret) goes through `write_atomic`: the temp file is created exclusively
(O_EXCL, random name, never following a symlink someone planted) in the target
folder, its mode and owner are set before any byte is written, the data is
fsynced, and only then renamed over the target. A reader sees the old file or
the new one, and a secret is never readable by anyone else for an instant.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

SECRET_MODE = 0o600   # manager.conf, pjsip files (auth secrets), the AMI secret
CONFIG_MODE = 0o640   # other Asterisk config: the Asterisk user (or group) reads it
PRIVATE_DIR = 0o700   # database, speech spool, recordings: the service user only


def secret_file(name: str) -> bool:
    """Config files that hold secrets: the AMI secret, PJSIP auth passwords."""
    return name == "manager.conf" or name.startswith("pjsip")


def write_atomic(path: Path, data: str | bytes, mode: int = SECRET_MODE,
                 owner: tuple[int, int] | None = None) -> None:
    """Replace `path` with `data` atomically; `mode`/`owner` are set before the content."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        try:
            os.fchmod(fd, mode)
            if owner is not None and os.geteuid() == 0:
                os.fchown(fd, *owner)
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    sync_dir(path.parent)


def sync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (best effort on file systems without it)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def private_dir(folder: Path, mode: int = PRIVATE_DIR) -> Path:
    """Create `folder` and its missing parents with exactly `mode` (whatever the umask).

    A folder that already exists is left as it is: it may be shared (a
    database at /tmp/x.db must not close /tmp); the files in it are 0600.
    """
    folder = Path(folder)
    missing = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for new in reversed(missing):
        try:
            new.mkdir(mode=mode)
        except FileExistsError:
            continue
        os.chmod(new, mode)
    return folder


def create_private_file(path: Path, mode: int = SECRET_MODE) -> None:
    """Create `path` empty with `mode` if missing (so a library creating it later keeps the mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    except FileExistsError:
        return
    os.fchmod(fd, mode)  # the umask may have taken bits away: set exactly `mode`
    os.close(fd)
