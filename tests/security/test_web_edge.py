"""The web edge (issue 11, item 7): TLS, hashed tokens, back-off on wrong tokens,
the websocket's Origin check and its JSON size/depth limits. Real aiohttp servers."""
from __future__ import annotations

import asyncio
import ssl
import subprocess

import aiohttp
from aiohttp import web

from ivr.config.model import Config
from ivr.web.app import create_app
from ivr.web.auth import Backoff, hash_token, make_runner, tls_context
from tests.support.web_support import TOKEN, city_config, connect, recv, serve, services


def _config(**web_fields) -> Config:
    raw = city_config().model_dump(mode="json", exclude_none=True)
    raw["web"].update(web_fields)
    return Config.model_validate(raw)


async def test_tls_serves_the_console_and_websocket(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    config = _config(tls={"cert": str(cert), "key": str(key)})
    app = create_app(config, services=services())
    runner = make_runner(app, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls_context(config.web.tls))
    await site.start()
    port = runner.addresses[0][1]
    client_ctx = ssl.create_default_context(cafile=str(cert))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"https://127.0.0.1:{port}/healthz", ssl=client_ctx) as resp:
                assert resp.status == 200
            ws, hello = await connect(http, f"https://127.0.0.1:{port}", "agent1001", ssl=client_ctx)
            assert hello["agent"] == "agent1001"
            await ws.close()
            # plain HTTP to the TLS port gets nowhere
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    assert resp.status != 200
            except aiohttp.ClientError:
                pass
    finally:
        await runner.cleanup()


async def test_hashed_token_in_config_authenticates():
    secret = "a-long-agent-token-kept-only-by-the-agent"
    config = _config(tokens={hash_token(secret): "agent1001", "tok-super-0a9d3e6f4b21": "super01"})
    async with serve(services(), config) as base, aiohttp.ClientSession() as http:
        ok = await http.get(f"{base}/api/calls/mine", headers={"Authorization": f"Bearer {secret}"})
        assert ok.status == 200 and (await ok.json())["agent"] == "agent1001"
        # the stored hash itself is not a token
        bad = await http.get(f"{base}/api/calls/mine", headers={"Authorization": f"Bearer {hash_token(secret)}"})
        assert bad.status == 401


async def test_wrong_tokens_back_off_per_address():
    async with serve(services(), backoff=Backoff(free=5, base=1.0, cap=4.0)) as base, aiohttp.ClientSession() as http:
        url = f"{base}/api/calls/mine"
        for _ in range(5):
            assert (await http.get(url, headers={"Authorization": "Bearer guess-guess-guess"})).status == 401
        blocked = await http.get(url, headers={"Authorization": "Bearer guess-guess-guess"})
        assert blocked.status == 429 and blocked.headers["Retry-After"] == "1"
        # while blocked, even the right token waits (guessing stays slow)
        again = await http.get(url, headers={"Authorization": f"Bearer {TOKEN['agent1001']}"})
        assert again.status == 429
        await asyncio.sleep(1.1)
        blocked = await http.get(url, headers={"Authorization": "Bearer guess-guess-guess"})
        assert blocked.status == 429 and blocked.headers["Retry-After"] == "2"  # doubled
        await asyncio.sleep(2.1)
        ok = await http.get(url, headers={"Authorization": f"Bearer {TOKEN['agent1001']}"})
        assert ok.status == 200
        assert (await http.get(url, headers={"Authorization": "Bearer guess"})).status == 401  # forgiven


def test_backoff_is_capped_and_bounded():
    now = [0.0]
    b = Backoff(free=1, base=1.0, cap=8.0, max_addresses=100, clock=lambda: now[0])
    blocks = [b.failed("127.0.0.2") for _ in range(10)]
    assert blocks[:5] == [0.0, 1.0, 2.0, 4.0, 8.0] and max(blocks) == 8.0
    for i in range(1000):
        b.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(b) == 100


async def test_websocket_origin_check():
    config = _config(origins=["https://console.example.cn"])
    async with serve(services(), config) as base, aiohttp.ClientSession() as http:
        try:
            await connect(http, base, "agent1001", headers={"Origin": "https://evil.example.com"})
            raise AssertionError("a cross-site page opened the websocket")
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 403
        for origin in (base, "https://console.example.cn"):
            ws, hello = await connect(http, base, "agent1001", headers={"Origin": origin})
            assert hello["type"] == "hello"
            await ws.close()


async def test_deep_and_large_json_get_an_error_and_the_connection_stays():
    async with serve(services()) as base, aiohttp.ClientSession() as http:
        ws, _ = await connect(http, base, "agent1001")
        await recv(ws)  # resync
        await ws.send_str("[" * 5000 + "]" * 5000)
        err = await recv(ws)
        assert err["type"] == "error" and "nested" in err["detail"]
        await ws.send_str('{"type":"ping","pad":"' + "x" * 40000 + '"}')
        err = await recv(ws)
        assert err["type"] == "error" and "too large" in err["detail"]
        await ws.send_str('{"type":"ping","s":"[[[[[[[[[[[[[[[[[[[[[[[[["}')  # brackets in a string are no nesting
        assert (await recv(ws))["type"] == "pong"
        await ws.close()


async def test_queue_join_and_interfaces_are_limited_to_config():
    """Refused before anything reaches Asterisk (no AMI here: an allowed request gets 503).
    With real Asterisk: tests/transfer/test_api.py."""
    import transfer.http

    config = _config(agent_queues={"*": ["general"], "agent1002": ["hrss-expert"]})
    config.queues[0].members.append("Local/agent1001@sim-agents/n")
    svc = services(ami=None)
    app = create_app(config, services=svc)
    transfer.http.setup(app)
    runner = make_runner(app, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"

    async def login(agent: str, body: dict) -> int:
        resp = await http.post(f"{base}/api/agents/login", json=body,
                               headers={"Authorization": f"Bearer {TOKEN[agent]}"})
        return resp.status

    try:
        async with aiohttp.ClientSession() as http:
            assert await login("agent1001", {"queues": ["hrss-expert"]}) == 403
            assert await login("agent1001", {"queues": ["general"]}) == 503      # allowed: on to Asterisk
            assert await login("agent1002", {"queues": ["hrss-expert"]}) == 503
            assert await login("super01", {"agent": "agent1001", "queues": ["hrss-expert"]}) == 403
            for outside in ("Local/13900001111@outside/n", "PJSIP/13900001111@pstn", "PJSIP/agent1002"):
                assert await login("super01", {"agent": "agent1001", "interface": outside}) == 403
            for own in ("PJSIP/agent1001", "Local/agent1001@sim-agents/n"):
                assert await login("super01", {"agent": "agent1001", "interface": own}) == 503
            assert await login("super01", {"agent": "stranger"}) == 403  # not an agent config knows
            resp = await http.post(f"{base}/api/agents/logout", json={"queues": ["hrss-expert"]},
                                   headers={"Authorization": f"Bearer {TOKEN['agent1001']}"})
            assert resp.status == 503  # leaving is always allowed
    finally:
        await runner.cleanup()
