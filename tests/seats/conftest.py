"""A real embedded center for the browser-seat tests, with its HTTP/WS server on a free port."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ivr.config.loader import load_config
from ivr.dialplan.build import instance_files
from ivr.seats.asterisk import render_http
from tests.support.asterisk_harness import free_port, new_instance
from tests.conftest import REPO, test_files
from transfer.dialplan import render_agent_auth

BROWSER_TONE = 1000  # Hz, what the browser's fake microphone plays
PASSWORDS = {"agent1001": "seat-pw-1001-" + "x" * 8, "agent1002": "desk-pw-1002-" + "y" * 8}


@pytest.fixture(scope="module")
def seat_config():
    return load_config(REPO / "config.yaml")


@pytest.fixture(scope="module")
def seat_center(seat_config):
    """The shipped config's center (agent1001 = browser seat) with agents' passwords and a free HTTP port."""
    inst = new_instance("seat")
    inst.http_port = free_port()
    auth, _ = render_agent_auth(seat_config, env={
        "HOTLINE_AGENT_PASSWORDS": ",".join(f"{a}={p}" for a, p in PASSWORDS.items())})
    here = {p.name: p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("*.conf")}
    inst.write_config(instance_files(seat_config, "center") | test_files() | here | {
        "http_hotline.conf": render_http(seat_config, port=inst.http_port), "pjsip_agents_auth.conf": auth})
    inst.start()
    yield inst
    inst.remove()


@pytest.fixture(scope="module")
def tone_wav(tmp_path_factory) -> Path:
    """The browser's fake microphone (--use-file-for-fake-audio-capture): a steady tone, made with sox."""
    path = tmp_path_factory.mktemp("seat") / "mic-1000hz.wav"
    subprocess.run(["sox", "-n", "-r", "48000", "-c", "1", "-b", "16", str(path), "synth", "60", "sine",
                    str(BROWSER_TONE), "vol", "0.5"], check=True)
    return path


def ws_url_of(inst) -> str:
    return f"ws://127.0.0.1:{inst.http_port}/ws"
