"""The recording subroutine and its hooks, as rendered; the `recordings:` config checks."""
from __future__ import annotations

import pytest

from ivr.config.loader import ConfigError, load_config
from ivr.config.model import Config
from ivr.dialplan.build import render
from ivr.prompts.manifest import config_prompts
from recordings.dialplan import render as render_recordings

BASE = {"hotline": {"name": "测试12345"}, "queues": [{"id": "general", "name": "综合"}],
        "trunks": {"pstn": {"type": "local", "context": "sim-outside"}}}
HOOK = "GosubIf(${DIALPLAN_EXISTS(hotline-record,s,1)}?hotline-record,s,1("


def _config(**recordings) -> Config:
    return Config.model_validate({**BASE, "recordings": recordings})


def test_off_means_no_context_and_no_prompt():
    text = render_recordings(_config())["extensions_recordings.conf"]
    assert "[hotline-record]" not in text and "MixMonitor" not in text
    assert "recording-notice" not in config_prompts(_config(notice=True))


def test_every_queue_forward_and_direct_transfer_is_hooked():
    files = render(_config(enabled=True))
    queue = files["extensions_hotline.conf"].split("[hotline-queue]")[1].split("\n[")[0]
    assert queue.index(HOOK + "queue))") < queue.index("Queue(")
    forward = files["extensions_hotline.conf"].split("[hotline-act-forward]")[1].split("\n[")[0]
    assert forward.index(HOOK + "forward))") < forward.index("Dial(")
    direct = files["extensions_transfer.conf"].split("[hotline-xfer-direct]")[1].split("\n[")[0]
    assert direct.index(HOOK + "direct))") < direct.index("Dial(")


def test_subroutine_records_both_sides_by_call_id():
    text = render_recordings(_config(enabled=True, folder="/var/spool/rec", skip_lines=["tax-12366"],
                                     skip_queues=["vip"], notice=True, record_forwards=False))["extensions_recordings.conf"]
    assert "MixMonitor(,br(${REC_BASE}.caller.wav)t(${REC_BASE}.agent.wav))" in text
    assert "Set(REC_BASE=/var/spool/rec/${REC_ID})" in text
    assert 'REGEX("^[0-9A-Za-z._-]{1,120}$" ${REC_ID})' in text
    assert "exten => line-tax-12366,1,Return()" in text and "exten => queue-vip,1,Return()" in text
    assert "Playback(hotline/recording-notice)" in text
    assert 'GotoIf($["${ARG1}" = "forward"]?done)' in text
    assert config_prompts(_config(enabled=True, notice=True))["recording-notice"] == "为保证服务质量，您的通话可能会被录音。"


@pytest.mark.parametrize("field, value, reason", [
    ("folder", "/var/rec/../etc", "no '..'"),
    ("folder", "relative/rec", "absolute path"),
    ("folder", "/var/rec,x)", "absolute path"),
    ("skip_queues", ["Bad Queue"], "ids are lower-case"),
    ("retention_days", 0, "greater than or equal to 1"),
])
def test_bad_values_are_refused_with_their_line(tmp_path, field, value, reason):
    import yaml

    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({**BASE, "recordings": {"enabled": True, field: value}}, allow_unicode=True),
                    encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(path, env={})
    assert f"recordings.{field}" in str(exc.value) and reason in str(exc.value)
    assert str(path) + ":" in str(exc.value)
