"""Results pushed to the work-order system's webhook: retried until accepted, never lost, never resent."""
from __future__ import annotations

import asyncio

from aiohttp import web

from callbacks import repo
from callbacks.webhook import ResultPusher
from tests.callbacks.test_repo import NOW, add, make_id, open_store, policy


async def test_results_are_retried_until_accepted_and_sent_once(tmp_path):
    received: list[tuple[str, dict]] = []
    answers = iter([503, 200, 200])

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("Authorization", ""), await request.json()))
        return web.json_response({}, status=next(answers))

    app = web.Application()
    app.router.add_post("/results", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    p = policy(max_attempts=1)
    store = open_store(tmp_path)
    try:
        task = add(store, p, "13960000001", ticket="T20261204-0201")[0]
        add(store, p, "13960000002")  # no ticket: nothing to report
        [c] = [c for c in store.run_sync(repo.claim_due, p, NOW, "pstn", 0, make_id) if c["task"] == task["id"]]
        store.run_sync(repo.finish_attempt, p, c["channel_id"], "busy", {}, NOW)
        pusher = ResultPusher(f"http://127.0.0.1:{port}/results", "tok-wos", store, lambda: NOW)
        assert await pusher.push() == 0 and pusher.backoff == 1.0       # 503: kept for later
        assert await pusher.push() == 0 and len(received) == 1           # still backing off
        await asyncio.sleep(1.05)
        assert await pusher.push() == 1                                   # accepted
        assert await pusher.push() == 0 and len(received) == 2           # not sent again
        auth, body = received[-1]
        assert auth == "Bearer tok-wos"
        assert body["ticket"] == "T20261204-0201" and body["state"] == "done" and body["result"] == "busy"
        assert "最多1次" in body["reason"]
        # Restart: a new pusher on the same database has nothing left to send.
        assert await ResultPusher(f"http://127.0.0.1:{port}/results", "", store, lambda: NOW).push() == 0
        assert store.run_sync(repo.unnotified) == []
    finally:
        store.close()
        await runner.cleanup()


def test_webhook_token_comes_from_the_environment_and_stays_out_of_repr(tmp_path):
    from ivr.config.loader import load_config

    path = tmp_path / "config.yaml"
    path.write_text('hotline: {name: 测试热线, number: "12345"}\nqueues:\n  - {id: general, name: 综合座席}\n'
                    "trunks:\n  pstn: {type: local, context: sim-outside}\ncallbacks:\n  enabled: true\n"
                    "  webhook: http://127.0.0.1:9/results\n  webhook_token: from-file\n", encoding="utf-8")
    assert load_config(path, env={}).callbacks.webhook_token == "from-file"
    config = load_config(path, env={"HOTLINE_CALLBACK_WEBHOOK_TOKEN": "tok-env-secret"})
    assert config.callbacks.webhook_token == "tok-env-secret"
    assert "tok-env-secret" not in repr(config.callbacks)
    pusher = ResultPusher(config.callbacks.webhook, config.callbacks.webhook_token, None, lambda: NOW)
    assert pusher.headers == {"Authorization": "Bearer tok-env-secret"}
