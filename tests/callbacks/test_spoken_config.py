"""`callbacks.spoken` and `Question.words`: strict words, FILE:LINE errors, and the dialplan they give."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from callbacks.dialplan import render
from ivr.config.callbacks_model import Question
from ivr.config.model import Config
from tests.support.config_text import config_problems

BASE = """\
hotline: {name: 测试热线, number: "12345"}
queues:
  - {id: general, name: 综合座席}
trunks:
  pstn: {type: local, context: sim-outside}
speech: {enabled: true}
callbacks:
  enabled: true
  campaigns:
    c1:
      - {id: solved, prompt: 已解决请按1, keys: {"1": 已解决, "2": 未解决}, words: WORDS}
"""


def _problems(tmp_path, words: str) -> list[str]:
    return config_problems(tmp_path, BASE.replace("WORDS", words))


def test_good_words_pass_and_the_default_question_has_chinese_words(tmp_path):
    assert _problems(tmp_path, '{"1": [解决了, 已经 解决], "2": [没解决, 还没有]}') == []
    cfg = Config.model_validate({"hotline": {"name": "测试热线"}})
    assert "不满意" in cfg.callbacks.spoken.words["3"] and "满意" in cfg.callbacks.spoken.words["1"]
    assert cfg.callbacks.prompts()["callback-speak"] == "请说满意或不满意。"


@pytest.mark.parametrize("words, reason", [
    ('{"3": [解决]}', "one of the question's keys"),
    ('{"1": ["解决了！"]}', "not a plain phrase"),
    ('{"1": ["解决\\t了"]}', "not a plain phrase"),
    ('{"1": ["[unk]"]}', "not a plain phrase"),
    ('{"1": ["这个问题已经彻底解决了谢谢你们"]}', "not a plain phrase"),
    ('{"1": [解决], "2": [解决]}', "listed for keys 1 and 2"),
    ('{"1": []}', "1-20 phrases"),
])
def test_bad_words_are_refused_with_file_and_line(tmp_path, words, reason):
    found = _problems(tmp_path, words)
    path = tmp_path / "config.yaml"
    assert any(p.startswith(f"{path}:11: callbacks.campaigns.c1") and reason in p for p in found), found


def test_hangul_words_are_allowed_for_the_korean_test_model():
    q = Question(id="satisfaction", prompt="p", keys={"1": "满意", "3": "不满意"}, words={"1": ["네"], "3": ["아니요"]})
    assert q.words["3"] == ["아니요"]
    with pytest.raises(ValidationError, match="not a plain phrase"):
        Question(id="q", prompt="p", keys={"1": "满意"}, words={"1": ["네;DROP"]})


def _config(speech: bool, **cb) -> Config:
    return Config.model_validate({"hotline": {"name": "测试热线"}, "queues": [{"id": "general", "name": "综合"}],
                                  "trunks": {"pstn": {"type": "local", "context": "sim-outside"}},
                                  "speech": {"enabled": speech}, "callbacks": {"enabled": True} | cb})


CAMPAIGN = {"c1": [{"id": "sat", "prompt": "p", "keys": {"1": "满意", "3": "不满意"}, "words": {"1": ["满意"]}},
                   {"id": "solved", "prompt": "p", "keys": {"1": "是", "2": "否"}}]}


def test_the_spoken_step_is_in_the_dialplan_only_with_speech():
    off = render(_config(False, campaigns=CAMPAIGN))["extensions_callbacks.conf"]
    assert "[hotline-survey-speak]" not in off and "Record(" not in off and "(satisfaction))" not in off
    assert "Gosub(hotline-survey-ask,s,1(sat,hotline/callback-q-c1-sat,13))" in off
    on = render(_config(True, campaigns=CAMPAIGN, spoken={"folder": "/var/spool/asterisk/spoken", "seconds": 5}))
    ext = on["extensions_callbacks.conf"]
    assert "Record(/var/spool/asterisk/spoken/${HOTLINE_CB_ID}-${ARG1}.wav,2,5,qk)" in ext
    assert "Gosub(hotline-survey-speak,s,1(satisfaction))" in ext          # the default question
    assert "Gosub(hotline-survey-ask,s,1(sat,hotline/callback-q-c1-sat,13,1))" in ext   # has words
    assert "Gosub(hotline-survey-ask,s,1(solved,hotline/callback-q-c1-solved,12))" in ext  # has none
    assert "Set(CHANNEL(hangup_handler_push)=hotline-survey-spoken,s,1)" in ext


def test_a_folder_that_is_not_a_safe_path_is_refused():
    for bad in ("relative/dir", "/var/spool/../etc", "/var/spool/a b", "/tmp/x;System(rm)"):
        with pytest.raises(ValidationError, match="absolute path"):
            _config(True, spoken={"folder": bad})
