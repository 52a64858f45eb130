"""`hotline config check` on the callbacks: section: the trunk and queues it names must exist (FILE:LINE)."""
from __future__ import annotations

import pytest

from tests.support.config_text import config_problems

GOOD = """\
hotline: {name: 测试热线, number: "12345"}
queues:
  - {id: general, name: 综合座席}
trunks:
  pstn: {type: local, context: sim-outside}
callbacks:
  enabled: true
  trunk: pstn
  queue_callback: {general: 30}
  rating: {queues: [general]}
"""


def _problems(tmp_path, text: str) -> list[str]:
    return config_problems(tmp_path, text)


def test_a_good_callbacks_section_passes(tmp_path):
    assert _problems(tmp_path, GOOD) == []


def test_unknown_trunk_and_queues_are_reported_with_their_line(tmp_path):
    bad = GOOD.replace("trunk: pstn", "trunk: sip-gw").replace("{general: 30}", "{vhold: 30}") \
        .replace("queues: [general]", "queues: [general, expert]")
    path = tmp_path / "config.yaml"
    found = _problems(tmp_path, bad)
    assert f"{path}:8: callbacks.trunk: unknown trunk 'sip-gw' (known: pstn)" in found, found
    assert any(p.startswith(f"{path}:9: callbacks.queue_callback.vhold") and "unknown queue 'vhold'" in p
               for p in found), found
    assert any(p.startswith(f"{path}:10: callbacks.rating.queues") and "unknown queue 'expert'" in p
               for p in found), found


def test_a_disabled_engine_is_not_checked(tmp_path):
    assert _problems(tmp_path, GOOD.replace("enabled: true", "enabled: false").replace("trunk: pstn", "trunk: x")) == []


@pytest.mark.parametrize("bad, reason", [
    ("rating: {queues: [general], keys: {'12': 好}}", "single digits"),
    ("campaigns: {c1: [{id: q1, prompt: 满意吗, keys: {'1': 是}, redo: ['2']}]}", "redo keys must be among keys"),
    ("queue_callback: {general: 0}", "1..3600"),
])
def test_bad_values_are_refused(tmp_path, bad, reason):
    text = GOOD.replace("  rating: {queues: [general]}\n", "").replace("  queue_callback: {general: 30}\n", "")
    found = _problems(tmp_path, text + "  " + bad + "\n")
    assert any(reason in p for p in found), found
