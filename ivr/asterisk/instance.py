"""One embedded Asterisk instance: its config folder, start, stop, status.

An instance lives inside the Asterisk root at /srv/hotline/<name>/ and runs
as `chroot <root> asterisk -f -U asterisk -G asterisk -C /srv/hotline/<name>/etc/asterisk.conf`:
Asterisk drops root right after reading asterisk.conf and runs as the root's
own `asterisk` user (from the Debian package). The folders it writes (lib,
spool, log, run, recordings) belong to that user and are closed to others;
etc is readable by it, its secret files (manager.conf, pjsip) are 0600.
Several instances (a 12345 center, a sub-center) run side by side, each with
its own SIP and AMI ports, all on 127.0.0.1.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ivr.asterisk import confgen
from ivr.safefile import CONFIG_MODE, SECRET_MODE, secret_file, write_atomic

ASTERISK_USER = "asterisk"  # the user the Debian package creates inside the root
# folder -> mode; all owned by the Asterisk user. Asterisk writes lib, spool,
# log, run and recordings (caller numbers, recordings: nobody else reads them).
STATE_DIRS = {"etc": 0o750, "lib": 0o700, "lib/keys": 0o700, "spool": 0o700, "log": 0o750,
              "run": 0o750, "sounds": 0o755, "recordings": 0o700}
ASTERISK_WRITES = ("lib", "spool", "log", "run", "recordings")


class InstanceError(RuntimeError):
    pass


@dataclass
class Instance:
    name: str
    root: Path
    sip_port: int
    ami_port: int
    ami_user: str
    ami_secret: str = field(repr=False)
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    _proc: subprocess.Popen | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    # -- paths: `inner` is what Asterisk sees, `host` is the same file from outside.
    @property
    def inner(self) -> str:
        return f"/srv/hotline/{self.name}"

    @property
    def host(self) -> Path:
        return self.root / self.inner.lstrip("/")

    def host_path(self, inner_path: str) -> Path:
        return self.root / inner_path.lstrip("/")

    @property
    def conf(self) -> str:
        return f"{self.inner}/etc/asterisk.conf"

    @property
    def sounds(self) -> Path:
        """Where prompts go (host side); Asterisk sees it as `<inner>/sounds`."""
        return self.host / "sounds"

    @property
    def log_file(self) -> Path:
        return self.host / "log" / "console.log"

    # -- config
    def write_config(self, files: dict[str, str] | None = None) -> None:
        """Write the base config plus `files` (name -> text) into etc/.

        Files named extensions_*.conf, queues_*.conf and pjsip_*.conf are
        included by the base files (dialplans/ and `dialplan build` output).
        Files not in `files` from an earlier write are removed, so the folder
        always shows exactly what this instance runs.
        """
        owner = self.asterisk_owner()
        self.host.mkdir(parents=True, exist_ok=True)
        self.host.chmod(0o755)
        for sub, mode in STATE_DIRS.items():
            folder = self.host / sub
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(mode)
            os.chown(folder, *owner)
            if sub in ASTERISK_WRITES:  # files left by a root Asterisk of an older version
                for path in folder.rglob("*"):
                    os.lchown(path, *owner)
        etc = self.host / "etc"
        files = files or {}
        wanted = confgen.base_files(self) | files
        for old in etc.glob("*.conf"):
            if old.name not in wanted:
                old.unlink()
        for name, text in wanted.items():
            write_atomic(etc / name, text, SECRET_MODE if secret_file(name) else CONFIG_MODE, owner)
        self._link_data_dir()

    def asterisk_owner(self) -> tuple[int, int]:
        """(uid, gid) of ASTERISK_USER as the root's own /etc/passwd has it."""
        try:
            for line in (self.root / "etc/passwd").read_text().splitlines():
                fields = line.split(":")
                if len(fields) > 3 and fields[0] == ASTERISK_USER:
                    return int(fields[2]), int(fields[3])
        except (OSError, ValueError):
            pass
        raise InstanceError(f"{self.name}: no user {ASTERISK_USER!r} in {self.root}/etc/passwd "
                            "(the asterisk package creates it); refusing to run Asterisk as root")

    def _link_data_dir(self) -> None:
        """data/ mirrors /usr/share/asterisk, with sounds/hotline -> this instance's prompts.

        So `Playback(hotline/<prompt>)` finds this instance's own prompts, as
        it would in a production Asterisk with prompts in sounds/hotline/.
        """
        shared = self.host_path("/usr/share/asterisk")
        data = self.host / "data"
        (data / "sounds").mkdir(parents=True, exist_ok=True)
        links = [(data / e.name, f"/usr/share/asterisk/{e.name}") for e in shared.iterdir() if e.name != "sounds"]
        links += [(data / "sounds" / e.name, f"/usr/share/asterisk/sounds/{e.name}") for e in (shared / "sounds").iterdir()]
        links.append((data / "sounds" / "hotline", f"{self.inner}/sounds"))
        for link, target in links:
            if not link.is_symlink():
                link.symlink_to(target)

    # -- process
    def _asterisk(self, *args: str) -> list[str]:
        return ["chroot", str(self.root), "asterisk", "-C", self.conf, *args]

    def rx(self, command: str, timeout: float = 10) -> str:
        """Run one CLI command through the control socket (`asterisk -rx`)."""
        out = subprocess.run(self._asterisk("-rx", command), capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise InstanceError(f"{self.name}: `{command}` failed: {out.stderr.strip() or out.stdout.strip()}")
        return out.stdout

    def pid(self) -> int | None:
        try:
            pid = int((self.host / "run" / "asterisk.pid").read_text().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def running(self) -> bool:
        if self.pid() is None:
            return False
        try:
            self.rx("core show uptime seconds", timeout=5)
            return True
        except (InstanceError, subprocess.TimeoutExpired):
            return False

    def start(self, timeout: float = 30) -> None:
        if self.running():
            return
        if not (self.host / "etc" / "asterisk.conf").is_file():
            raise InstanceError(f"{self.name}: no config; call write_config() first")
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")
        self._proc = subprocess.Popen(
            ["chroot", str(self.root), "asterisk", "-f", "-n", "-U", ASTERISK_USER, "-G", ASTERISK_USER,
             "-C", self.conf],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            umask=0o027,  # what Asterisk writes (logs, recordings, astdb) is never world-readable
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise InstanceError(f"{self.name}: asterisk exited with {self._proc.returncode}; see {self.log_file}:\n{self.tail()}")
            try:
                self.rx("core waitfullybooted", timeout=5)
                return
            except (InstanceError, subprocess.TimeoutExpired):
                time.sleep(0.2)
        self.stop()
        raise InstanceError(f"{self.name}: asterisk did not boot within {timeout:.0f} s; see {self.log_file}:\n{self.tail()}")

    def stop(self, timeout: float = 15) -> None:
        pid = self.pid() or (self._proc.pid if self._proc and self._proc.poll() is None else None)
        if pid is None:
            return
        try:
            self.rx("core stop now", timeout=5)
        except (InstanceError, subprocess.TimeoutExpired):
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            if self._proc:
                self._proc.poll()
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        if self._proc:
            self._proc.wait(timeout=5)
            self._proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.host, ignore_errors=True)

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def status(self) -> dict:
        running = self.running()
        return {
            "instance": self.name,
            "running": running,
            "pid": self.pid() if running else None,
            "sip": f"127.0.0.1:{self.sip_port}",
            "ami": f"127.0.0.1:{self.ami_port}",
            "config": str(self.host / "etc"),
        }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie child of ours counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False
