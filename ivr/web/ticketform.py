"""The ticket draft's form fields as the console edits them, checked on the server too.

The page checks the same rules before saving (ticketform.js), but a browser is
outside: the server refuses a malformed phone number, an unknown urgency or an
over-long field with a reason in Chinese, and nothing is stored. Fields that
are not columns of `tickets` (department, phone, urgency) are kept in the
ticket's `extra` by storage; every save is audited there (repo.save_ticket_draft).
"""
from __future__ import annotations

import re

URGENCIES = {"normal": "一般", "urgent": "紧急", "critical": "特急"}
PHONE_RE = re.compile(r"^[0-9][0-9-]{2,19}$")
LIMITS = {"category": 64, "department": 64, "caller_name": 64, "address": 200, "summary": 500, "phone": 20}
NAMES = {"category": "诉求类型", "department": "承办部门", "caller_name": "来电人", "address": "地址",
         "summary": "摘要", "phone": "联系电话", "urgency": "紧急程度"}


def check(fields: dict) -> str | None:
    """None when the form fields are fine, else why not (shown to the agent)."""
    for key, limit in LIMITS.items():
        value = fields.get(key)
        if isinstance(value, str) and len(value) > limit:
            return f"{NAMES[key]}不能超过 {limit} 个字"
    phone = fields.get("phone")
    if phone not in (None, "") and (not isinstance(phone, str) or not PHONE_RE.match(phone)):
        return "联系电话只能是数字（可含 -），3 到 20 位"
    urgency = fields.get("urgency")
    if urgency not in (None, "") and urgency not in URGENCIES:
        return f"紧急程度须是：{'、'.join(URGENCIES.values())}"
    summary = fields.get("summary")
    if "summary" in fields and (not isinstance(summary, str) or not summary.strip()):
        return "摘要不能为空"
    return None
