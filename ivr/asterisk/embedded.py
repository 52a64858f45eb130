"""The embedded Asterisk instances a config describes: a 12345 center and a sub-center.

The sub-center is a second Asterisk in the same root (a stand-in for a tax or
tobacco call center), reached from the center over a PJSIP trunk on 127.0.0.1.
"""
from __future__ import annotations

import secrets
import shutil
from pathlib import Path

from ivr.asterisk.instance import Instance
from ivr.safefile import SECRET_MODE, write_atomic
from ivr.config.model import Config
from ivr.paths import AGI_SCRIPTS, DIALPLANS, STATE

SECRET_FILE = STATE / "ami.secret"
SUBCENTER_SIP_OFFSET = 10  # center 5060 -> sub-center 5070 (the shipped trunk host)
SUBCENTER_AMI_OFFSET = 1


def ami_secret(config: Config, secret_file: Path = SECRET_FILE) -> str:
    """The AMI secret: config/env if set, else one generated once and kept root-only."""
    if config.asterisk.ami.secret:
        return config.asterisk.ami.secret
    if secret_file.is_file():
        return secret_file.read_text().strip()
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    write_atomic(secret_file, value + "\n", SECRET_MODE)
    return value


def center(config: Config) -> Instance:
    a = config.asterisk
    return Instance(
        name=a.instance, root=Path(a.root), sip_port=a.sip_port, ami_port=a.ami.port,
        ami_user=a.ami.username, ami_secret=ami_secret(config),
        agi_host=config.fastagi.host, agi_port=config.fastagi.port,
    )


def subcenter(config: Config) -> Instance:
    a = config.asterisk
    return Instance(
        name=f"{a.instance}-subcenter", root=Path(a.root), sip_port=a.sip_port + SUBCENTER_SIP_OFFSET,
        ami_port=a.ami.port + SUBCENTER_AMI_OFFSET, ami_user=a.ami.username, ami_secret=ami_secret(config),
        agi_host=config.fastagi.host, agi_port=config.fastagi.port,
    )


def static_files(kind: str) -> dict[str, str]:
    """Hand-written config of an instance kind: dialplans/<kind>/*.conf."""
    folder = DIALPLANS / kind
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.conf"))}


def install_agi_scripts(inst: Instance) -> None:
    """Copy agi_scripts/ to where every instance's Asterisk looks (astagidir)."""
    dest = inst.host_path("/srv/hotline/agi-bin")
    dest.mkdir(parents=True, exist_ok=True)
    for script in AGI_SCRIPTS.glob("*.py"):
        shutil.copy2(script, dest / script.name)
        (dest / script.name).chmod(0o755)
