"""Emergency recognition on phone speech: every taxonomy group, said the way callers say it.

What the agent observes is the dict the live path hands to the transfer and
the pop (kind, target, also, phrase): these tests assert exactly that.
"""
from __future__ import annotations

import time

import pytest

from ivr.tickets.emergency import detect_emergency
from ivr.tickets.lexicon import default, lexicon_for


@pytest.mark.parametrize(
    "text, kind, target",
    [
        ("着火了着火了 快来人", "fire", "119"),
        ("我家里着伙了 浓烟都冒出来了", "fire", "119"),               # recognizer: 伙 for 火
        ("刚才砰的一声 锅炉炸了", "explosion", "119"),
        ("楼道里一股子煤气味道 重得很", "gas_leak", "119"),
        ("我跟你说 那个 隔壁男的拿着那个刀子说要砍他老婆", "weapon", "110"),  # fillers inside
        ("他给我发短信说要弄死我全家", "threat", "110"),
        ("我男人喝多了打我 我躲在厕所里", "domestic_violence", "110"),
        ("村口打群架了", "violence", "110"),
        ("我娃娃不见了 放学到现在都没回来", "missing_child", "110"),  # dialect 娃娃
        ("尕娃被人抱走了 就在超市门口", "missing_child", "110"),     # dialect 尕娃
        ("有人在巷子里抢包", "robbery", "110"),
        ("工地上有个工人爬到塔吊上 说老板不给工钱 他要跳下来", "suicide", "110"),
        ("我朋友说不想活了", "suicide", "110"),
        ("两个车撞了 有个人卡在里面出不来", "traffic", "122"),
        ("电梯里困人了", "trapped", "119"),
        ("有人掉到黄河里了 在水里扑腾呢", "drowning", "120"),
        ("我爸浇水 电打上了", "electrocution", "120"),
        ("我婆婆夜个烧炉子 煤烟中毒了", "poisoning", "120"),
        ("我邻居不喘气了 嘴唇都紫了", "not_breathing", "120"),
        ("单位有个人一下子栽倒了 喊他也不应", "unconscious", "120"),
        ("我们单位有个人婚迷了", "unconscious", "120"),                # recognizer: 婚 for 昏
        ("这有人受伤了 流了好多血", "injury", "120"),
        ("快叫个幺二零", "medical", "120"),                           # 幺二零 read as 120
        ("救命啊 快来人啊", "help", "110"),                           # a cry that names nothing else
        ("你们快点 要出人命了", "help", "110"),
    ],
)
def test_every_group_recognised(text, kind, target):
    found = detect_emergency(text)
    assert found and found["kind"] == kind and found["target"] == target and found["phrase"], found


def test_taxonomy_targets_are_the_issue_s():
    want = {"fire": "119", "explosion": "119", "gas_leak": "119", "injury": "120", "unconscious": "120",
            "not_breathing": "120", "poisoning": "120", "drowning": "120", "electrocution": "120",
            "weapon": "110", "threat": "110", "domestic_violence": "110", "violence": "110",
            "missing_child": "110", "robbery": "110", "suicide": "110", "traffic": "122"}
    assert {k: default().groups[k].target for k in want} == want


def test_crash_with_injured_also_tells_120():
    hurt = detect_emergency("国道上两个车撞了 有个人流着血")
    assert hurt["target"] == "122" and hurt["also"] == ["120"]
    assert detect_emergency("前面两个车追尾了 人都没事")["also"] == []


def test_sound_match_says_what_it_heard():
    found = detect_emergency("我家里着伙了")
    assert found["phrase"] == "着伙" and found["heard_as"] == "着火"


@pytest.mark.parametrize(
    "text",
    [
        "不是着火 是楼下烧烤的烟熏到我家",            # negated
        "去年我们家着过火 保险公司没赔",              # past, perfective
        "上个月我爸晕倒住院了 医保报销咋弄",          # past
        "我之前被车撞了 想问问工伤咋认定",
        "电动车在楼道里充电 万一着火了咋办",          # hypothetical
        "我怕着火 楼道里全是纸箱子",                  # a worry about a hazard
        "那个司机简直就是抢劫",                      # figure of speech
        "焚烧垃圾呛得人喘不过气",                     # hyperbole
        "喇叭天天喊 吵得我头都炸了",
        "我想问一下献血有啥补贴",                     # blood, harmlessly
        "派出所办身份证要带啥材料",                   # police, harmlessly
        "小区的物业服务太差了",                       # 物业 is no 误喝
        "能不能延长一下服务时间",                     # 服务时 is no 误食
        "广场舞每天晚上跳到十点多",                   # 上跳 is no 上吊
        "我想跳槽 社保怎么转",
        "你们打我电话吧",
        "这是我的救命钱",
    ],
)
def test_no_emergency(text):
    assert detect_emergency(text) is None


def test_now_ends_the_reach_of_a_past_word():
    assert detect_emergency("上次跟你们反映过 现在着火了")["kind"] == "fire"


def test_city_adds_words_and_dialect():
    city = lexicon_for({"dialect": {"着了大火": "着火"}, "emergency": {"drowning": ["遭水淹"]}})
    assert detect_emergency("有个娃遭水淹了", city)["kind"] == "drowning"
    assert detect_emergency("有个娃遭水淹了") is None


def test_cheap_enough_for_every_partial():
    partials = ["喂你好我想问一下公积金怎么提取需要带什么材料我在白银区四龙路"[:n] for n in range(1, 32)] * 30
    start = time.perf_counter()
    for p in partials:
        detect_emergency(p)
    per_call = (time.perf_counter() - start) / len(partials)
    print(f"\ndetect_emergency: {per_call * 1e6:.0f} µs per partial transcript")
    assert per_call < 0.002


@pytest.mark.parametrize(
    "text",
    [
        "气得我直冒火 他们就是不管",                  # anger, not fire
        "农村烧火做饭的柴火补贴有没有",
        "楼上老往楼下扔垃圾",                        # a complaint, not violence
        "他们说要烧烤摊搬走",
        "把垃圾拉到车上拉走了",
        "这个政策我现在还迷糊着呢",
        "我那个煤气灶打不着火",                      # negated
        "电热毯插上就冒火星 商家不认",
    ],
)
def test_broad_patterns_stay_out_of_ordinary_talk(text):
    assert detect_emergency(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "楼道的扶手断了好久了 物业不来修",            # a handrail, not a hand
        "游戏厅里的海报全是血腥的画面",              # gore on a poster, not blood
        "停车场收那么多 跟打劫一样",                  # a likeness
        "我以前在厂里被机器压伤过 想问工伤咋认定",    # said of the past (…过)
        "开发区那个路口经常出车祸 该装个红绿灯了",    # a habit
        "我家孩子的校服丢了 学校说不管",              # the child's thing is lost, not the child
        "天然气管道老化了 倒是没漏气 就想换一下",      # negated inside the stretch
        "火灾认定书在哪里领 保险公司要",              # a paper
        "这路迟早要出车祸",                          # not now
    ],
)
def test_harmless_mentions_are_no_emergency(text):
    assert detect_emergency(text, lexicon_for(None, {"classifier": {"enabled": False}})) is None, text


@pytest.mark.parametrize("text", ["我师傅修线路的时候被电打了 趴在地上不动", "放羊的老汉叫雷劈了 躺着不动"])
def test_struck_by_current_or_lightning_is_electrocution_not_a_fight(text):
    found = detect_emergency(text)
    assert found["kind"] == "electrocution" and found["target"] == "120", found


_RULES = {"classifier": {"enabled": False}}


@pytest.mark.parametrize(
    "text",
    [
        "邻居家的猫叫车轧了 躺在路中间 谁来收拾一下",            # an animal hurt, no person
        "我的钥匙掉到河里了 能不能找人捞一下",                  # a thing fallen into water
        "昨晚那个电视剧里一个人被砍了好几刀 娃娃看了睡不着",      # fiction
        "新闻上说外地一个饭馆煤气罐爆了 我们这边的饭馆查不查",    # hearsay
        "灶台上的抹布着了 我拿水浇灭了 就是想问问灶台能不能换",  # a fire already put out
        "我骑车打滑了 车把歪了 修车铺在哪",                    # 打滑 is no blow
        "消防通道堵了 真着火了咋办",                          # hypothetical
        "一个老人上公交差点栽倒 司机也不等",                   # averted
        "冬天烧炉子怕中毒 有没有报警器发",                     # a worry
    ],
)
def test_harmless_kinds_are_no_emergency(text):
    assert detect_emergency(text, lexicon_for(None, _RULES)) is None, text


@pytest.mark.parametrize(
    "text, target",
    [
        ("我爸让牛踢了一下 倒在圈里起不来 头上流血", "120"),      # the animal did it: a person hurt
        ("遛狗的大妈突然倒在地上 叫也叫不醒", "120"),            # an animal kept, a person down
        ("电线掉在地上 一只羊碰上就死了 旁边还有个人也倒了", "120"),  # a live wire hurts whoever comes next
        ("我家狗跑到马路上 我儿子去追 叫车撞了", "122"),          # a person after the animal
    ],
)
def test_an_animal_in_the_story_does_not_hide_a_person_hurt(text, target):
    found = detect_emergency(text, lexicon_for(None, _RULES))
    assert found and found["target"] == target, (text, found)
