"""Real Asterisk: the WebSocket transport loads from the generated config, and a browser
seat registers over it with its own password (desk phones keep their plain endpoints)."""
from __future__ import annotations

from ivr.config.loader import load_config
from ivr.dialplan.build import render
from ivr.seats.asterisk import browser_agents, ws_url
from tests.conftest import REPO
from tests.seats.conftest import PASSWORDS, ws_url_of
from tests.seats.sip_ws import register


def test_modules_and_transports_load(seat_center):
    mods = seat_center.rx("module show like websocket")
    assert "res_http_websocket.so" in mods and "res_pjsip_transport_websocket.so" in mods
    assert "Running" in mods
    assert "transport-ws" in seat_center.rx("pjsip show transports")
    assert f"127.0.0.1:{seat_center.http_port}" in seat_center.rx("http show status")


def _settings(text: str) -> dict[str, str]:
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def test_browser_endpoint_is_webrtc_and_desk_phone_is_not(seat_center):
    web = _settings(seat_center.rx("pjsip show endpoint agent1001"))
    assert (web["webrtc"], web["ice_support"], web["media_encryption"], web["use_avpf"]) == ("yes", "true", "dtls", "true")
    assert "opus" in web["allow"] and "ulaw" in web["allow"]
    desk = _settings(seat_center.rx("pjsip show endpoint agent1002"))
    assert (desk["webrtc"], desk["ice_support"], desk["media_encryption"]) == ("no", "false", "no")


async def test_registers_over_websocket_with_its_password(seat_center):
    contacts = []
    status = await register(ws_url_of(seat_center), "agent1001", PASSWORDS["agent1001"],
                            while_open=lambda: contacts.append(seat_center.rx("pjsip show contacts")))
    assert status == 200
    assert "Contact:  agent1001/sip:agent1001@" in contacts[0]


async def test_wrong_password_is_refused(seat_center):
    assert await register(ws_url_of(seat_center), "agent1001", "wrong-password") in (401, 403)


def test_no_browser_seats_no_http_server():
    config = load_config(REPO / "config.yaml")
    assert browser_agents(config) == ["agent1001"]
    assert ws_url(config) == "ws://127.0.0.1:8088/ws"
    files = render(config.model_copy(update={"webrtc": config.webrtc.model_copy(update={"agents": []})}))
    assert "http.conf" not in files and "pjsip_seats.conf" not in files
    assert "[agent1001]" in files["pjsip_agents.conf"]  # back to a desk phone


def test_wss_for_production():
    config = load_config(REPO / "config.yaml")
    w = config.webrtc.model_copy(update={"tls_port": 8089, "tls_cert": "/etc/asterisk/keys/seat.crt",
                                         "tls_key": "/etc/asterisk/keys/seat.key"})
    files = render(config.model_copy(update={"webrtc": w}))
    assert "tlsenable = yes" in files["http_hotline.conf"] and "tlscertfile = /etc/asterisk/keys/seat.crt" in files["http_hotline.conf"]
    assert "[transport-wss]" in files["pjsip_seats.conf"]
    assert ws_url(config.model_copy(update={"webrtc": w})) == "wss://127.0.0.1:8089/ws"
