"""Quality-inspection rules on known Chinese transcripts (utterance times as Vosk gives them)."""
from __future__ import annotations

import pytest

from ivr.config.recordings_model import QaRules
from recordings.qa import Said, score, utterances

RULES = QaRules()

# About 4 characters a second, as people speak on the phone (speech_rate 120-320 per minute).
GOOD_AGENT = [Said(1.0, 6.5, "您好 12345 政务 服务 热线 请问 有 什么 可以 帮 您"),
              Said(11.5, 18.0, "好的 我 已经 记录 下来 会 转 到 市 水务局 处理 三个 工作日 内 回复 您"),
              Said(27.0, 31.0, "请问 还有 其他 问题 吗 感谢 您的 来电 再见")]
GOOD_CALLER = [Said(7.0, 11.0, "我 家 楼下 的 自来水 管 破 了 一直 在 漏水"),
               Said(18.5, 20.0, "好的 谢谢 你们"),
               Said(21.0, 26.0, "那 大概 什么 时候 能 来 修 呢 三天 之内 吗")]


def _rule(result, name):
    return next(f for f in result.findings if f.rule == name)


def test_a_good_call_scores_100():
    result = score(GOOD_CALLER, GOOD_AGENT, 32.0, RULES)
    assert result.score == 100, [(f.rule, f.detail) for f in result.findings if not f.passed]
    greeting = _rule(result, "greeting")
    assert greeting.evidence[0]["word"] == "您好" and greeting.evidence[0]["at"] == 1.0
    assert _rule(result, "closing").evidence[0]["at"] >= 27.0


def test_late_greeting_forbidden_words_and_no_closing():
    agent = [Said(7.5, 9.0, "喂 什么 事"),
             Said(12.0, 16.0, "这个 不归我们管 你 自己 去 问 吧"),
             Said(20.0, 22.0, "我 也 不知道")]
    caller = [Said(9.5, 11.5, "我 要 反映 噪音 问题")]
    result = score(caller, agent, 23.0, RULES)
    greeting, closing, forbidden = (_rule(result, r) for r in ("greeting", "closing", "forbidden"))
    assert not greeting.passed and greeting.evidence[0]["at"] == 7.5
    assert not closing.passed
    assert not forbidden.passed
    assert {e["word"] for e in forbidden.evidence} == {"不归我们管", "不知道"}
    at = {e["word"]: e["at"] for e in forbidden.evidence}
    assert 12.0 <= at["不归我们管"] <= 16.0 and 20.0 <= at["不知道"] <= 22.0
    lost = RULES.weights["greeting"] + RULES.weights["closing"] + RULES.weights["forbidden"]
    assert result.score == round(100 * (sum(RULES.weights.values()) - lost) / sum(RULES.weights.values()))


def test_long_silence_is_found_with_its_offsets():
    agent = [Said(0.5, 2.0, "您好 12345"), Said(30.0, 32.0, "感谢 您的 来电 再见")]
    caller = [Said(2.5, 5.0, "我 想 问 一下 社保")]
    silence = _rule(score(caller, agent, 33.0, RULES), "silence")
    assert not silence.passed
    assert silence.evidence == [{"at": 5.0, "end": 30.0, "side": "both", "text": ""}]


def test_talk_over_ratio():
    agent = [Said(0.5, 2.0, "您好 12345"), Said(4.0, 10.0, "您 说 的 这个 问题 我们 需要 先 核实 一下 情况")]
    caller = [Said(3.0, 10.0, "你 听 我 说 完 我 已经 打 了 三 次 电话 了")]
    result = score(caller, agent, 12.0, RULES)
    talk = _rule(result, "talk_over")
    assert not talk.passed and "抢话比例" in talk.detail
    assert talk.evidence == [{"at": 4.0, "end": 10.0, "side": "both", "text": ""}]


def test_speech_rate_and_hold():
    fast = [Said(0.0, 2.0, "您好12345热线请问有什么可以帮您我们这边马上给您登记处理好吧再见")]  # 34 characters in 2 s
    result = score([], fast, 3.0, RULES, hold_seconds=90)
    assert not _rule(result, "speech_rate").passed
    assert "1020字/分钟" in _rule(result, "speech_rate").detail
    assert not _rule(result, "hold").passed


def test_caller_distress_words_are_flagged():
    caller = [Said(3.0, 6.0, "我 要 投诉 你们 这 都 第 三 次 了 太慢了")]
    distress = _rule(score(caller, GOOD_AGENT, 32.0, RULES), "distress")
    assert not distress.passed
    assert [e["word"] for e in distress.evidence] == ["投诉", "太慢了"]
    assert all(e["side"] == "caller" for e in distress.evidence)


def test_weights_from_config_and_rules_switched_off():
    rules = QaRules(weights={"greeting": 0, "closing": 0, "forbidden": 100, "silence": 0, "talk_over": 0,
                             "speech_rate": 0, "hold": 0, "distress": 0})
    agent = [Said(8.0, 9.0, "喂")]  # late greeting, no closing, but no forbidden word
    assert score([], agent, 10.0, rules).score == 100
    assert score([], [Said(1, 2, "不知道")], 10.0, rules).score == 0


def test_utterances_from_engine_output():
    said = utterances([{"start": 2.0, "end": 3.0, "text": "再见"}, {"start": 0.5, "end": 1.0, "text": "您好"},
                       {"start": 1.5, "end": 1.6, "text": "  "}])
    assert [s.text for s in said] == ["您好", "再见"]


def test_unknown_rule_weight_is_refused():
    with pytest.raises(ValueError, match="unknown rule"):
        QaRules(weights={"politeness": 10})


def test_korean_greeting_phrases_are_config_and_still_only_words():
    """The only speech model here is Korean: a city (or a test) sets Korean phrases; still words, never patterns."""
    rules = QaRules(greeting_words=["안녕하세요", "您好"], greeting_within=4)
    agent = [Said(1.2, 3.0, "안녕하세요 무엇을 도와 드릴까요")]
    greeting = _rule(score([], agent, 10.0, rules), "greeting")
    assert greeting.passed and greeting.evidence[0]["word"] == "안녕하세요" and greeting.evidence[0]["at"] == 1.2
    other = _rule(score([], [Said(1.2, 3.0, "잠시만 기다려 주세요")], 10.0, rules), "greeting")
    assert not other.passed and other.evidence[0]["at"] == 1.2
    late = _rule(score([], [Said(5.0, 6.0, "안녕하세요")], 10.0, rules), "greeting")
    assert not late.passed
    for bad in ("안녕 하세요", "안녕.*", "안녕하세요!", ""):
        with pytest.raises(ValueError, match="is not a word"):
            QaRules(greeting_words=[bad])
