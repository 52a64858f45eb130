"""The console as a workplace, in real Chromium at 1366×768: the ticket form's extra fields
(承办部门, 联系电话, 紧急程度) checked in the page and on the server, saved and audited; the
calls of the shift listed with numbers masked. Pure rule checks first."""
from __future__ import annotations

import datetime as dt

import aiohttp
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from ivr.storage import repo
from ivr.web.ticketform import check
from tests.support import web_support
from tests.support.web_support import CALL, TOKEN, pop_payload, serve, services
from tests.web.test_console_browser import FLAGS, ServerThread, chromium, text_of, wait_text

store = web_support.store  # the fixture: a store holding CALL


def test_form_rules():
    assert check({"summary": "咨询", "phone": "0943-8212345", "urgency": "urgent", "department": "市人社局"}) is None
    assert "联系电话" in check({"phone": "139abc"})
    assert "联系电话" in check({"phone": "1\r\n2"})
    assert "紧急程度" in check({"urgency": "asap"})
    assert "摘要不能为空" in check({"summary": "  "})
    assert "地址不能超过 200" in check({"address": "路" * 201})


async def test_server_refuses_a_bad_phone_and_saves_a_good_one(store):
    ticket_id = store.run_sync(repo.new_ticket, call=CALL)
    async with serve(services(store=store)) as base, aiohttp.ClientSession() as s:
        auth = {"Authorization": f"Bearer {TOKEN['agent1001']}"}
        async with s.put(f"{base}/api/tickets/{ticket_id}", json={"phone": "139; DROP"}, headers=auth) as r:
            assert r.status == 400 and "联系电话" in (await r.json())["detail"]
        async with s.put(f"{base}/api/tickets/{ticket_id}", json={"phone": "13912345678", "urgency": "critical"},
                         headers=auth) as r:
            assert r.status == 200
    assert store.run_sync(repo.ticket_draft, ticket_id)["extra"] == {"phone": "13912345678", "urgency": "critical"}


def test_agent_fills_the_form_and_sees_the_shift(tmp_path, store):
    now = dt.datetime.now(dt.timezone.utc)
    store.run_sync(repo.upsert_call, "1700000000.0", {
        "caller": "13800001111", "agent": "agent1001", "dialed": "12345", "disposition": "answered",
        "ticket_id": "T20261204-0001", "started_at": now - dt.timedelta(hours=1),
        "answered_at": now - dt.timedelta(minutes=59), "ended_at": now - dt.timedelta(minutes=55)})
    store.run_sync(repo.upsert_call, "1700000000.9", {"caller": "13700002222", "agent": "agent1002",
                                                      "started_at": now - dt.timedelta(minutes=30)})
    ticket_id = store.run_sync(repo.new_ticket, call=CALL)
    store.run_sync(repo.save_ticket_draft, ticket_id, {"summary": "咨询养老保险"}, "speech")
    draft = store.run_sync(repo.ticket_draft, ticket_id)
    svc = services(store=store)
    with ServerThread(svc) as server, chromium(tmp_path / "profile", FLAGS) as driver:
        driver.set_window_size(1366, 768)
        driver.get(f"{server.base.result()}/console/?token={TOKEN['agent1001']}")
        wait_text(driver, "shift-rows", "138******11")  # own calls only, masked
        assert "T20261204-0001" in text_of(driver, "shift-rows") and "137" not in text_of(driver, "shift-rows")

        server.run(svc.hub.publish("agent1001", "ring", pop_payload(ticket=draft)))
        server.run(svc.hub.publish("agent1001", "answer", pop_payload(ticket=draft)))
        wait_text(driver, "ticket-id", ticket_id)
        driver.find_element(By.ID, "t-department").send_keys("市人社局")
        driver.find_element(By.ID, "t-phone").send_keys("139-abc")
        Select(driver.find_element(By.ID, "t-urgency")).select_by_value("urgent")
        driver.find_element(By.ID, "ticket-save").click()
        wait_text(driver, "ticket-status", "联系电话只能是数字")
        assert "phone" not in store.run_sync(repo.ticket_draft, ticket_id)["extra"]  # nothing was sent

        driver.find_element(By.ID, "t-phone").clear()
        driver.find_element(By.ID, "t-phone").send_keys("0943-8212345")
        driver.find_element(By.ID, "ticket-save").click()
        wait_text(driver, "ticket-status", "已保存")
        # usable at 1366×768: no sideways scrolling, the save button on screen
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 1366
        assert driver.find_element(By.ID, "ticket-save").is_displayed()
    saved = store.run_sync(repo.ticket_draft, ticket_id)
    assert saved["extra"] == {"department": "市人社局", "phone": "0943-8212345", "urgency": "urgent"}
    audit = store.run_sync(repo.audit_entries, record_type="ticket", record_id=ticket_id, actor="agent1001")
    assert any(a["action"] == "update" for a in audit)
