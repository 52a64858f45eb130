"""The demo browser seat `hotline up` prepares, so a newcomer can answer a call at once.

On the first run a token (for the console) and a SIP password (for the
phone) are generated for the first browser seat of `webrtc.agents` and
stored in a 0600 JSON file; later runs reuse them. A password already in
$HOTLINE_AGENT_PASSWORDS wins over the generated one. `hotline up` then
prints a ready-to-open console URL with the token, as Jupyter does.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from ivr.config.model import Config
from ivr.safefile import SECRET_MODE, write_atomic
from ivr.seats.asterisk import browser_agents
from ivr.seats.web import PASSWORDS_ENV, parse_passwords

DEFAULT_FILE = Path("/var/lib/hotline/demo-seat.json")
SUPERVISOR_FILE = Path("/var/lib/hotline/demo-supervisor.json")
SUPERVISOR = "supervisor1"  # the demo's 班长: wallboard, every call, agents' states, recordings, 质检
AUTH_FILE = "pjsip_seats_auth.conf"


@dataclass(frozen=True)
class DemoSeat:
    agent: str
    token: str
    password: str


class DemoError(RuntimeError):
    pass


def load_or_create(path: Path, agent: str) -> DemoSeat:
    """The stored demo seat for `agent`, created (0600) when missing or for another agent."""
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise DemoError(f"{path}: holds a token and a password but is readable by others "
                            f"(mode {mode:o}); chmod 600 it")
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("agent") == agent and data.get("token") and data.get("password"):
            return DemoSeat(agent, data["token"], data["password"])
        path.unlink()
    seat = DemoSeat(agent, secrets.token_urlsafe(24), secrets.token_urlsafe(18))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"agent": seat.agent, "token": seat.token, "password": seat.password}, f)
    return seat


def with_supervisor(config: Config, path: Path = SUPERVISOR_FILE) -> tuple[Config, str]:
    """(config with the demo supervisor's token, that token): created on the first run and
    stored 0600 like the seat's, so a newcomer can open the wallboard and the supervisor's
    console as well as the agent's."""
    token = ""
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise DemoError(f"{path}: holds a token but is readable by others (mode {mode:o}); chmod 600 it")
        token = json.loads(path.read_text(encoding="utf-8")).get("token") or ""
    if len(token) < 16:
        token = secrets.token_urlsafe(24)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"agent": SUPERVISOR, "token": token}), SECRET_MODE)
    web = config.web
    supervisors = [*web.supervisors, *([] if SUPERVISOR in web.supervisors else [SUPERVISOR])]
    web = web.model_copy(update={"tokens": {**web.tokens, token: SUPERVISOR}, "supervisors": supervisors})
    return config.model_copy(update={"web": web}), token


def render_auth(passwords: dict[str, str], agents: list[str]) -> str:
    bad = [a for a in agents if not re.fullmatch(r"[!-~]{8,128}", passwords[a]) or ";" in passwords[a]]
    if bad:  # the password goes into a config file: printable ASCII, no ';' (a comment there)
        raise DemoError(f"${PASSWORDS_ENV}: the password of {', '.join(bad)} must be 8-128 printable "
                        "ASCII characters without spaces or ';'")
    out = ["; Browser seats' SIP passwords for the embedded demo (hotline up). Secret: never commit.\n"]
    for aid in agents:
        out.append(f"\n[{aid}-auth]\ntype = auth\nauth_type = userpass\nusername = {aid}\npassword = {passwords[aid]}\n")
    return "".join(out)


def prepare(config: Config, env: dict[str, str], path: Path = DEFAULT_FILE) -> tuple[Config, DemoSeat | None, str]:
    """(config with the demo token, the demo seat, pjsip auth text for the browser seats).

    Also puts the demo password into env[HOTLINE_AGENT_PASSWORDS], where the web app reads it.
    Returns (config, None, "") when there is no browser seat.
    """
    agents = browser_agents(config)
    if not agents:
        return config, None, ""
    passwords = parse_passwords(env.get(PASSWORDS_ENV, ""))
    seat = load_or_create(path, agents[0])
    if agents[0] not in passwords:
        passwords[agents[0]] = seat.password
    seat = DemoSeat(seat.agent, seat.token, passwords[agents[0]])
    with_password = [a for a in agents if a in passwords]
    env[PASSWORDS_ENV] = ",".join(f"{a}={p}" for a, p in passwords.items())
    tokens = {**config.web.tokens, seat.token: seat.agent}
    config = config.model_copy(update={"web": config.web.model_copy(update={"tokens": tokens})})
    return config, seat, render_auth(passwords, with_password)


def console_url(config: Config, seat: DemoSeat) -> str:
    return f"http://{config.web.host}:{config.web.port}/console/?token={seat.token}"


def install(center, auth: str) -> None:
    """Give the running embedded center the browser seats' passwords (written 0600, then pjsip reload)."""
    # Asterisk runs as the root's own asterisk user: the file is its, 0600, written atomically.
    write_atomic(center.host / "etc" / AUTH_FILE, auth, SECRET_MODE, center.asterisk_owner())
    center.rx("module reload res_pjsip.so")
