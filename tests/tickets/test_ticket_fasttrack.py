"""一企来: an enterprise caller's ordinary matter is due in 15 working days; an urgent one stays urgent."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from ivr.config.loader import load_config
from ivr.tickets.draft import draft_ticket

CONFIG = load_config(Path(__file__).resolve().parents[2] / "config.yaml", env={})
AT = dt.datetime(2026, 11, 23, 10, 0)   # Monday, local time


def test_enterprise_caller_gets_fifteen_working_days():
    text = "我想咨询一下公积金提取需要什么材料"
    citizen = draft_ticket(text, CONFIG, at=AT)
    firm = draft_ticket(text, CONFIG, at=AT, tags="enterprise")
    assert (citizen.urgency, citizen.deadline) == ("5workdays", "2026-11-30T23:59:59+08:00")
    assert (firm.urgency, firm.deadline) == ("15workdays", "2026-12-14T23:59:59+08:00")
    assert "urgency:一企来" in firm.keywords


def test_urgent_words_win_over_the_enterprise_track():
    firm = draft_ticket("我们小区停水了，到现在还没来水", CONFIG, at=AT, tags="enterprise")
    assert firm.urgency != "15workdays"
    assert draft_ticket("咨询一下", CONFIG, at=AT, tags="language:en").urgency == "5workdays"
