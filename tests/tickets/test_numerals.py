"""Chinese numerals in transcripts: digits, quantities, phone numbers, house numbers."""
from __future__ import annotations

import pytest

from ivr.tickets.extract import extract_address, extract_phone
from ivr.tickets.numerals import (
    cn_to_int,
    compact,
    digit_runs_to_arabic,
    normalize_address_numbers,
    spoken_digits,
)


@pytest.mark.parametrize(
    "spoken, digits",
    [
        ("幺三九一二三四五六七八", "13912345678"),
        ("一三九一二三四五六七八", "13912345678"),
        ("洞幺洞", "010"),
        ("〇九四三", "0943"),
        ("两六三八", "2638"),
        ("零零九四", "0094"),
        ("12幺3", "1213"),
    ],
)
def test_spoken_digits(spoken, digits):
    assert spoken_digits(spoken) == digits


def test_spoken_digits_rejects_other_characters():
    with pytest.raises(ValueError):
        spoken_digits("一下")


@pytest.mark.parametrize(
    "text, value",
    [
        ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23), ("一百", 100), ("一百零五", 105),
        ("一百二十三", 123), ("一百二", 120), ("两百", 200), ("一千二", 1200), ("一千零一", 1001),
        ("三万五", 35000), ("十万", 100000), ("二零三", 203), ("五零二", 502), ("一百十", 110),
    ],
)
def test_cn_to_int(text, value):
    assert cn_to_int(text) == value


@pytest.mark.parametrize("bad", ["", "万一", "百", "一二百", "三号"])
def test_cn_to_int_rejects_non_numbers(bad):
    with pytest.raises(ValueError):
        cn_to_int(bad)


def test_digit_runs_leave_quantities_and_words_alone():
    assert digit_runs_to_arabic("电话一五八九三四五六七二一，干了三十天") == "电话15893456721，干了三十天"
    # Positional 十/百 mark a quantity, never phone digits.
    assert digit_runs_to_arabic("一百二十块") == "一百二十块"
    # Short runs convert too (phone groups can be short); phone extraction
    # only accepts whole phone-shaped groups, so 1下 does no harm.
    assert digit_runs_to_arabic("问一下") == "问1下"
    # ...but a trailing 一 that starts a word stays a word.
    assert digit_runs_to_arabic("打幺二三三三一直打不通") == "打12333一直打不通"


def test_address_numbers_only_before_markers():
    assert normalize_address_numbers("四龙路一百零五号三单元五零二室") == "四龙路105号3单元502室"
    assert normalize_address_numbers("五一街二巷") == "五一街2巷"
    assert normalize_address_numbers("景泰县一条山镇") == "景泰县一条山镇"
    assert normalize_address_numbers("西关村三社，七号楼") == "西关村3社，7号楼"
    assert normalize_address_numbers("我想问一下") == "我想问一下"


def test_compact_removes_asr_spaces_between_chinese_only():
    assert compact("你好 我 想 问 一下 APP 怎么 用") == "你好我想问一下 APP 怎么用"
    assert compact("１２３４５") == "12345"


@pytest.mark.parametrize(
    "text, phone",
    [
        ("我电话一五八九三四五六七二一", "15893456721"),
        ("手机一八八 九三零二 四六七一，有事打我", "18893024671"),
        ("你们记一下啊，幺五幺，两六三八，零零九四", "15126380094"),
        ("座机零九四三八二二六七八九", "0943-8226789"),
        ("联系电话零九四三，八五一二，三三六", "0943-8512336"),
        ("北京的号码洞幺洞 六五一二 三四五六", "010-65123456"),
        ("打这个电话八二二六七八九找我", "8226789"),
        ("139-1234-5678", "13912345678"),
    ],
)
def test_extract_phone(text, phone):
    assert extract_phone(compact(text)) == phone


@pytest.mark.parametrize(
    "text",
    [
        "车牌号是甘D幺二三四五",                       # a plate, not a phone
        "我打幺二三三三打不通",                         # an old hotline number
        "我打八八二幺零幺幺零举报违建",                 # 8 digits, but no 电话/号码 before it
        "身份证号六二零四零二一九八零零一零一一二三四",  # 18 digits
        "干了三十天，欠了一万二",
        "",
    ],
)
def test_extract_phone_ignores_other_numbers(text):
    assert extract_phone(compact(text)) is None


@pytest.mark.parametrize(
    "text, address",
    [
        ("住在白银区四龙路那个金鱼小区，三号楼二单元", "白银区四龙路金鱼小区3号楼2单元"),
        ("白银区四龙路一百零五号三单元五零二室，我家楼上漏水", "白银区四龙路105号3单元502室"),
        ("我 在 会宁县 会师镇 西关村 三社 我们 村 的 路", "会宁县会师镇西关村3社"),
        ("我们是景泰县城北的康乐小区", "景泰县城北康乐小区"),
        ("我要投诉白银区水川路一家装修公司", "白银区水川路"),
        ("就在五一街二巷", "五一街2巷"),
        ("人民路一百二十三号院里有人私搭乱建", "人民路123号院"),
        ("火车站广场那边有个流浪的老人", "火车站广场"),
        ("白银区工农路上那个火锅店", "白银区工农路"),
    ],
)
def test_extract_address(text, address):
    assert extract_address(compact(text)) == address


@pytest.mark.parametrize(
    "text",
    [
        "我们住十八楼，电梯坏了",       # a floor alone is no address
        "十二路公交车司机开车特别猛",   # a bus route, not a road
        "在超市买的酸奶过期了",
        "建议在城区多设几个监测点",
        "十字路口的红绿灯时间太短了",
        "我想表扬一下市人社局的工作人员",
        "离居民区很近",
    ],
)
def test_extract_address_ignores_non_addresses(text):
    assert extract_address(compact(text)) is None
