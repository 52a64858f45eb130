"""What a spoken survey answer means (pure): longest phrase wins, 不满意 beats 满意, negation flips."""
from __future__ import annotations

import pytest

from callbacks.spoken import clip_name, grammar, spoken_key, words_for
from ivr.config.callbacks_model import Question
from ivr.config.spoken_model import DEFAULT_WORDS

W = DEFAULT_WORDS


@pytest.mark.parametrize("text, key", [
    ("满意", "1"), ("很 满意", "1"), ("非常满意", "1"),
    ("基本 满意", "2"), ("还可以", "2"), ("一般", "2"),
    ("不 满意", "3"), ("不满意", "3"), ("很不满意", "3"), ("非常 不 满意", "3"), ("不太满意", "3"),
    ("不是 很 满意", "3"),     # negation before a positive phrase: its 不 form
    ("没有 满意", "3"),
    ("[unk] 不满意 [unk]", "3"), ("满意 [unk]", "1"),
    ("", None), ("[unk]", None), ("[unk] [unk]", None), ("你好", None),
])
def test_chinese_text_maps_to_the_key_it_means(text, key):
    assert spoken_key(text, W) == key


def test_a_contradiction_of_equal_phrases_is_no_answer():
    assert spoken_key("满意 一般", {"1": ["满意"], "2": ["一般"]}) is None
    assert spoken_key("满意 不满意", W) == "3"   # the longer phrase wins


def test_a_negated_phrase_without_a_negative_form_means_nothing():
    assert spoken_key("不 解决", {"1": ["解决"], "2": ["没解决"]}) is None
    assert spoken_key("没解决", {"1": ["解决"], "2": ["没解决"]}) == "2"


def test_korean_words_of_the_test_model():
    words = {"1": ["네"], "3": ["아니요"]}
    assert spoken_key("네", words) == "1" and spoken_key("아니요", words) == "3" and spoken_key("", words) is None


def test_the_grammar_lists_every_phrase_once_and_unk():
    assert grammar({"1": ["满意", "很满意"], "3": ["不满意"]}) == ["不满意", "很满意", "满意", "[unk]"]


def test_clip_names_come_only_from_our_ids():
    assert clip_name("cb-0123456789abcdef01234567", "satisfaction") == "cb-0123456789abcdef01234567-satisfaction.wav"
    for attempt, question in (("cb-../../etc", "q"), ("x", "satisfaction"), ("cb-0123456789abcdef01234567", "../a"),
                              ("cb-0123456789abcdef01234567", "Q")):
        assert clip_name(attempt, question) is None


def test_words_come_from_the_campaign_question_or_the_default():
    q = Question(id="solved", prompt="已解决请说解决", keys={"1": "已解决", "2": "未解决"}, words={"1": ["解决了"]})
    assert words_for({"c1": [q]}, "c1", "solved", W) == {"1": ["解决了"]}
    assert words_for({"c1": [q]}, None, "satisfaction", W) == W
    assert words_for({"c1": [q]}, "c1", "other", W) == {}
