"""`hotline serve` as an operator runs it: the FastAGI worker answers, /healthz
says so, and SIGTERM stops the server and its worker (no process left behind)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

from ivr.paths import REPO
from tests.support.asterisk_harness import free_port


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_serve_runs_fastagi_in_its_worker_and_stops_cleanly(tmp_path):
    data = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    agi, web = free_port(), free_port()
    data["asterisk"] |= {"embedded": False}
    data["asterisk"]["ami"] |= {"port": free_port()}  # nobody there: the server keeps trying
    data["fastagi"] |= {"port": agi}
    data["web"] |= {"port": web}
    data["database"] = {"url": f"sqlite:///{tmp_path}/hotline.db"}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "ivr.cli", "serve", "-c", str(config)], stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, "HOTLINE_AMI_SECRET": "not-used"})
    try:
        health = None
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{web}/healthz", timeout=1) as r:
                    health = json.loads(r.read())
            except OSError as exc:  # 503 while AMI is down is an HTTPError, an OSError with a body
                body = getattr(exc, "read", None)
                health = json.loads(body()) if body else None
            if health and health.get("fastagi"):
                break
            time.sleep(0.1)
        checks = {k: health.get(k) for k in ("ami", "fastagi", "db", "ok")}
        assert checks == {"ami": False, "fastagi": True, "db": True, "ok": False}, (tmp_path / "serve.log").read_text()
        assert health["degraded"] is False and health["db_queue"]["shed"] == {}, health
        workers = _children(proc.pid)
        assert workers, "no worker process"

        with socket.create_connection(("127.0.0.1", agi), timeout=5) as s:
            s.sendall(b"agi_network: yes\nagi_network_script: route\nagi_request: agi://127.0.0.1/route\n"
                      b"agi_channel: PJSIP/gw-00000001\nagi_uniqueid: 1.1\nagi_callerid: 13912345678\n"
                      b"agi_extension: 12328\nagi_arg_1: 12328\nagi_arg_2: 1.1\n\n")
            reply = b""
            while b"\n" not in reply:
                reply += s.recv(4096)
        assert reply.startswith(b'EXEC MSet "__HOTLINE_DIALED=12328,__HOTLINE_LINE=transport-12328')
        assert b"__HOTLINE_TICKET=T" in reply and reply.rstrip().endswith(b'__HOTLINE_ACTION=queue"')

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(w) for w in workers), "the worker outlived the server"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
