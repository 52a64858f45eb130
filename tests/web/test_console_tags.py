"""The agent sees a 一企来 enterprise call (or a language seat's call) marked on the pop, in Chromium."""
from __future__ import annotations

from tests.support.web_support import TOKEN, pop_payload, services, store  # noqa: F401 (store is a fixture)
from tests.web.test_console_browser import ServerThread, chromium, text_of, wait_text


def test_pop_shows_the_enterprise_and_language_tracks(tmp_path, store):
    svc = services(store=store)
    with ServerThread(svc) as server, chromium(tmp_path / "profile") as driver:
        driver.get(f"{server.base.result()}/console/?token={TOKEN['agent1001']}")
        wait_text(driver, "conn", "已连接")
        server.run(svc.hub.publish("agent1001", "ring", pop_payload() | {"tags": ["enterprise"]}))
        wait_text(driver, "pop-tags", "一企来")
        assert text_of(driver, "pop-tags") == "一企来 涉企 Enterprise"
        server.run(svc.hub.publish("agent1001", "update", {"call_id": "1700000000.1", "event": "info",
                                                          "tags": ["language:en"]}))
        wait_text(driver, "pop-tags", "外语 Language: en")
        assert "一企来" not in text_of(driver, "pop-tags")
        server.run(svc.hub.publish("agent1001", "hangup", {"call_id": "1700000000.1"}))
        server.run(svc.hub.publish("agent1001", "ring", pop_payload(call_id="1700000000.2")))  # a citizen
        wait_text(driver, "pop-tags", "—")
