"""Number masking keeps at most the first 3 and last 2 digits and hides at least half;
withheld / anonymous / non-numeric caller IDs get no caller history (issue 11, item 5)."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from ivr.privacy import history_key, mask_number
from ivr.storage import repo
from ivr.storage.store import Store

# The table in docs/security.md, "Privacy".
TABLE = [
    ("1001", "****"),                  # extension: all hidden
    ("801", "***"),
    ("12345", "1***5"),                # 5-digit service number
    ("1234567", "1****67"),            # 7-digit local number
    ("09438212", "09****12"),          # 8-digit local number
    ("13912345678", "139******78"),    # 11-digit mobile
    ("+8613912345678", "+861********78"),
    ("anonymous", "anonymous"),        # withheld: the word, which holds no data
    ("sip:13912345678@10.0.0.1", "***"),  # not a number: nothing of it
    ("", ""),
    (None, ""),
]


@pytest.mark.parametrize("number,masked", TABLE)
def test_mask_table(number, masked):
    assert mask_number(number) == masked


@pytest.mark.parametrize("length", range(1, 21))
def test_at_most_first_3_last_2_and_at_least_half_hidden(length):
    number = "".join(str((7 * i + 3) % 10) for i in range(length))
    masked = mask_number(number)
    assert len(masked) == length
    shown = [i for i, ch in enumerate(masked) if ch != "*"]
    assert len(masked) - len(shown) >= (length + 1) // 2, masked
    for i in shown:
        assert i < 3 or i >= length - 2, masked
        assert masked[i] == number[i]


def test_the_docs_table_matches_the_code():
    text = open("docs/security.md", encoding="utf-8").read()
    text = text.split("### Masking", 1)[1].split("\n### ", 1)[0]  # that section's table only
    rows = dict(re.findall(r"^\| `([^`]*)` +\| `([^`]*)`", text, re.M))
    assert rows, "docs/security.md has no masking table"
    for number, masked in rows.items():
        assert mask_number(number) == masked, number


@pytest.mark.parametrize("caller", ["anonymous", "Anonymous", "unknown", "", None, "withheld", "sip:a@b",
                                    "1001", "0000000", "abc123"])
def test_no_history_key_for_withheld_or_non_numeric(caller):
    assert history_key(caller) is None


def test_withheld_callers_share_no_history(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        t0 = dt.datetime(2026, 11, 21, 1, 30, tzinfo=dt.timezone.utc)
        for i, caller in enumerate(["anonymous", "anonymous", "13912345678"]):
            store.run_sync(repo.upsert_call, f"1700000000.{i}", {"caller": caller, "started_at": t0})
        # A second anonymous caller must not see the first one's call.
        assert store.run_sync(repo.caller_history, "anonymous", exclude="1700000000.1") == []
        assert store.run_sync(repo.caller_history, "1001") == []
        assert [h["call_id"] for h in store.run_sync(repo.caller_history, "13912345678")] == ["1700000000.2"]
    finally:
        store.close()
