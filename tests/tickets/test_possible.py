"""The recall-first tier (ivr/tickets/possible.py): emergencies said in words no phrase lists.

Sentences here are written for these tests, none is taken from a labelled set.
What an agent sees is asserted: the number suggested, whether the call is
handed over at once or shown as 可能紧急，请核实, and the words that led there.
"""
from __future__ import annotations

import datetime as dt

import pytest

from ivr.config.tickets_possible_model import Possible
from ivr.tickets.draft import draft_ticket
from ivr.tickets.lexicon import lexicon_for
from ivr.tickets.emergency import detect_emergency
from ivr.tickets.possible import VERIFY, hands_over
from tests.tickets.test_phone_sets import BAIYIN


# The tier on its own: a possible-tier alert the trained model agrees with is handed over
# (tests/tickets/test_classifier.py); here that agreement is switched off.
TIER_ALONE = lexicon_for(None, {"classifier": {"agree_hands_over": False}})
TIER_ALONE_CONFIG = BAIYIN.model_copy(update={"tickets": BAIYIN.tickets.model_copy(
    update={"possible": Possible(classifier={"agree_hands_over": False})})})


def test_unsure_is_shown_to_verify_with_the_words_and_not_handed_over():
    found = detect_emergency("我媳妇刚才说话突然说不清了 一边胳膊没劲", TIER_ALONE)
    assert found["target"] == "120" and found["by"] == "concepts" and found["confidence"] == "possible"
    assert found["reason"].startswith(VERIFY) and "说不清(medical)" in found["reason"]
    assert not hands_over(found)


def test_several_concepts_and_now_are_handed_over():
    found = detect_emergency("我那个老乡把自己关在屋里 发朋友圈说这辈子就这样了 对不起大家")
    assert found["target"] == "110" and found["confidence"] == "confident" and hands_over(found)
    assert found["reason"].startswith("紧急情况：")


def test_a_phrase_match_is_always_handed_over():
    assert hands_over(detect_emergency("我家里着火了"))


@pytest.mark.parametrize("text, target", [
    ("那边桥上有个姑娘坐在栏杆外边 谁劝都不听", "110"),          # the edge of a height
    ("工地上一根钢管砸到一个师傅头上了 他坐在地上起不来 快来", "120"),  # a falling pipe is no weapon
    ("我们家楼下的液化气瓶子崩了 墙都震塌了", "119"),
])
def test_concepts_name_the_number(text, target):
    assert detect_emergency(text)["target"] == target


@pytest.mark.parametrize("text", [
    "我们村河道里有人挖沙 大车一车一车往外拉",          # things only, nothing happening
    "去年孩子掉进水库 救上来了 现在想问问有没有补助",    # past, and asking
    "被狗咬了 打狂犬疫苗能不能报销",                    # asking about a fee
    "楼下烧烤摊天天烟大得很 熏得人受不了",              # a standing nuisance
    "我想问问孩子学校那个防溺水的课收费合理吗",
])
def test_no_alarm_for_ordinary_matters(text):
    assert detect_emergency(text) is None


def test_the_cause_decides_who_takes_it_over():
    found = detect_emergency("几个人围着一个小伙子踢 满脸是血 快来")
    assert found["target"] == "110" and found["also"] == ["120"] and "踢(violence)" in found["cause"]


def test_a_sound_alike_word_gives_way_to_the_concepts():
    # 边上钓鱼 sounds like 上吊 (110); the water and the slip say drowning (120)
    assert detect_emergency("黄河边上钓鱼的人滑下去了 在水里扑腾")["target"] == "120"


def test_a_crash_tells_120_only_when_someone_is_hurt():
    assert detect_emergency("前面两个车追尾了 人都没事")["also"] == []
    assert detect_emergency("前面两个车追尾了 有个人头上都是血")["also"] == ["120"]


def test_draft_says_why_to_the_agent():
    d = draft_ticket("我媳妇刚才说话突然说不清了 一边胳膊没劲", TIER_ALONE_CONFIG, at=dt.datetime(2024, 11, 20, 10, 0))
    assert d.category == "求助" and d.why["category"][0].startswith(VERIFY)


def test_a_phrase_in_an_ordinary_matter_is_flagged_but_not_handed_over():
    found = detect_emergency("我儿子在学校被同学打了一顿 老师不管 我要投诉")
    assert found["target"] == "110" and not hands_over(found)
    assert found["reason"].startswith(VERIFY) and "投诉(询问)" in found["reason"]
    assert hands_over(detect_emergency("喂 山上 着火了 快 来人"))
