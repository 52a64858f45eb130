"""The demo browser seat `hotline up` prepares: token + SIP password stored 0600 and reused,
and a real center given that password lets the seat register over WebSocket."""
from __future__ import annotations

import stat

import aiohttp
import pytest

from ivr.dialplan.build import instance_files
from ivr.seats import demo
from ivr.seats.asterisk import render_http
from tests.support.asterisk_harness import free_port, new_instance
from tests.seats.sip_ws import register
from tests.support.web_support import serve, services


def test_first_run_creates_a_private_seat_and_later_runs_reuse_it(seat_config, tmp_path):
    path = tmp_path / "demo-seat.json"
    env: dict[str, str] = {}
    config, seat, auth = demo.prepare(seat_config, env, path)
    assert seat.agent == "agent1001" and len(seat.token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config.web.tokens[seat.token] == "agent1001"
    assert env["HOTLINE_AGENT_PASSWORDS"] == f"agent1001={seat.password}"
    assert f"password = {seat.password}" in auth and "[agent1001-auth]" in auth
    assert demo.console_url(config, seat) == f"http://127.0.0.1:8080/console/?token={seat.token}"
    again = demo.prepare(seat_config, {}, path)[1]
    assert again == seat


def test_a_password_from_the_environment_wins(seat_config, tmp_path):
    env = {"HOTLINE_AGENT_PASSWORDS": "agent1001=operator-chosen-pw,agent1002=desk-pw-123"}
    _, seat, auth = demo.prepare(seat_config, env, tmp_path / "d.json")
    assert seat.password == "operator-chosen-pw" and "password = operator-chosen-pw" in auth
    assert "agent1002" not in auth  # desk phones are not the demo's business


def test_refuses_a_readable_file_and_a_password_that_would_break_the_config(seat_config, tmp_path):
    path = tmp_path / "d.json"
    demo.prepare(seat_config, {}, path)
    path.chmod(0o644)
    with pytest.raises(demo.DemoError, match="chmod 600"):
        demo.prepare(seat_config, {}, path)
    with pytest.raises(demo.DemoError, match="printable"):
        demo.prepare(seat_config, {"HOTLINE_AGENT_PASSWORDS": "agent1001=bad;pw[x]"}, tmp_path / "e.json")


async def test_demo_seat_registers_on_a_fresh_center_and_the_console_gets_its_password(seat_config, tmp_path,
                                                                                      monkeypatch):
    env: dict[str, str] = {}
    config, seat, auth = demo.prepare(seat_config, env, tmp_path / "d.json")
    inst = new_instance("seat-demo")
    port = free_port()
    inst.write_config(instance_files(config, "center") | {"http_hotline.conf": render_http(config, port=port)})
    inst.start()
    try:
        ws = f"ws://127.0.0.1:{port}/ws"
        assert await register(ws, "agent1001", seat.password) != 200  # no password installed yet (500)
        demo.install(inst, auth)
        assert stat.S_IMODE((inst.host / "etc" / demo.AUTH_FILE).stat().st_mode) == 0o600
        assert await register(ws, "agent1001", seat.password) == 200
    finally:
        inst.remove()
    monkeypatch.setenv("HOTLINE_AGENT_PASSWORDS", env["HOTLINE_AGENT_PASSWORDS"])  # as `hotline up` leaves it
    async with serve(services(), config) as base, aiohttp.ClientSession() as s:
        async with s.get(f"{base}/api/seat", headers={"Authorization": f"Bearer {seat.token}"}) as r:
            info = await r.json()
        async with s.get(f"{base}/api/seat") as r:
            assert r.status == 401
        async with s.get(f"{base}/console/vendor/jssip.min.js") as r:
            assert r.status == 200 and "JsSIP" in await r.text()
    assert info == {"state": None, "agent": "agent1001", "uri": "sip:agent1001@127.0.0.1", "ws_url": "ws://127.0.0.1:8088/ws",
                    "password": seat.password, "pause_reasons": ["小休", "用餐", "培训", "会议"], "wrapup": 0,
                    "auto_answer": False, "wrapup_end": "auto", "queues": ["general"]}


def test_demo_supervisor_token_is_created_once_private_and_a_supervisor(seat_config, tmp_path):
    path = tmp_path / "sup.json"
    config, token = demo.with_supervisor(seat_config, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config.web.tokens[token] == demo.SUPERVISOR and demo.SUPERVISOR in config.web.supervisors
    again, same = demo.with_supervisor(seat_config, path)
    assert same == token and again.web.supervisors.count(demo.SUPERVISOR) == 1
    path.chmod(0o644)
    with pytest.raises(demo.DemoError, match="chmod 600"):
        demo.with_supervisor(seat_config, path)
