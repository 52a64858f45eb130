"""Install Asterisk 22 into a Debian sid root (debootstrap), once.

Debian 12 has no asterisk package; sid has Asterisk 22. We build a minimal sid
root beside the system and run Asterisk from it with `chroot`. The build goes
to `<root>.partial` and is renamed when complete, so an interrupted install is
never mistaken for a good one; a stamp file makes the second run instant.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

PACKAGES = ["asterisk", "asterisk-modules", "asterisk-core-sounds-en", "python3", "python3-six", "ca-certificates"]
STAMP = "hotline-root.stamp"
STAMP_VERSION = "1:" + " ".join(PACKAGES)
DEBOOTSTRAP_SCRIPT = "/usr/share/debootstrap/scripts/sid"

Progress = Callable[[str], None]


class RootError(RuntimeError):
    pass


def _stderr(msg: str) -> None:
    print(f"[asterisk-root] {msg}", file=sys.stderr, flush=True)


def is_ready(root: Path) -> bool:
    stamp = root / STAMP
    return stamp.is_file() and stamp.read_text().strip() == STAMP_VERSION


def debian_mirror() -> str:
    """The Debian mirror this machine already uses (env HOTLINE_DEBIAN_MIRROR wins)."""
    if os.environ.get("HOTLINE_DEBIAN_MIRROR"):
        return os.environ["HOTLINE_DEBIAN_MIRROR"]
    sources = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    for path in sources:
        match = re.search(r"^URIs:\s*(\S+/debian)/?\s*$", path.read_text(), re.M)
        if match:
            return match.group(1)
    legacy = Path("/etc/apt/sources.list")
    if legacy.is_file():
        match = re.search(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+/debian)/?\s", legacy.read_text(), re.M)
        if match:
            return match.group(1)
    raise RootError("no Debian mirror found in /etc/apt sources; set HOTLINE_DEBIAN_MIRROR")


def _run(cmd: list[str], log: Path, what: str) -> None:
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise RootError(f"{what} failed (exit {proc.returncode}); last lines of {log}:\n" + "\n".join(tail))


def _ensure_host_tools(progress: Progress) -> None:
    if shutil.which("debootstrap") and Path(DEBOOTSTRAP_SCRIPT).exists():
        return
    progress("installing debootstrap on the host (apt-get)")
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    if subprocess.run(["apt-get", "install", "-y", "-qq", "debootstrap"]).returncode != 0:
        raise RootError("could not install debootstrap with apt-get")


def ensure_root(root: str | Path, progress: Progress = _stderr) -> Path:
    """Build the Asterisk root if it is not there yet; return its path."""
    root = Path(root)
    if is_ready(root):
        return root
    if os.geteuid() != 0:
        raise RootError("building the Asterisk root needs root (debootstrap and chroot)")
    _ensure_host_tools(progress)
    partial = root.with_name(root.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.parent.mkdir(parents=True, exist_ok=True)
    log = root.with_name(root.name + ".install.log")
    log.write_text("")
    started = time.monotonic()
    mirror = debian_mirror()

    progress(f"1/3 debootstrap Debian sid into {partial} (about 30 s; log: {log})")
    _run(["debootstrap", "--variant=minbase", "sid", str(partial), mirror, DEBOOTSTRAP_SCRIPT], log, "debootstrap")

    progress("2/3 apt-get install " + " ".join(PACKAGES) + " inside the root (about 30 s)")
    # No init system in the root: tell maintainer scripts not to start services.
    policy = partial / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    apt = ["chroot", str(partial), "apt-get", "-o", "Acquire::Check-Valid-Until=false"]
    _run(apt + ["update", "-qq"], log, "apt-get update in the root")
    _run(apt + ["install", "-y", "-qq", "--no-install-recommends", *PACKAGES], log, "apt-get install asterisk in the root")
    _run(["chroot", str(partial), "apt-get", "clean"], log, "apt-get clean")

    progress("3/3 adding pyst2 for AGI/EAGI scripts run by Asterisk")
    _install_pyst2(partial)

    (partial / STAMP).write_text(STAMP_VERSION + "\n")
    if root.exists():
        shutil.rmtree(root)
    partial.rename(root)
    progress(f"Asterisk root ready at {root} in {time.monotonic() - started:.0f} s")
    return root


def _install_pyst2(root: Path) -> None:
    """Copy pyst2 (pure Python) from our environment into the root's python3."""
    import asterisk.agi  # pyst2

    src = Path(asterisk.agi.__file__).parent
    dest = root / "usr/local/lib/hotline-python/asterisk"
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
    # A .pth file in Debian's python3 site dir puts our folder on sys.path.
    site = root / "usr/lib/python3/dist-packages"
    site.mkdir(parents=True, exist_ok=True)
    (site / "hotline.pth").write_text("/usr/local/lib/hotline-python\n")


def asterisk_version(root: str | Path) -> str:
    out = subprocess.run(["chroot", str(root), "asterisk", "-V"], capture_output=True, text=True)
    return out.stdout.strip()
