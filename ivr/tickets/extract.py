"""Pull a call-back phone number and an address out of a transcript.

Both work on text already passed through `numerals.compact`. They are
heuristics over how callers speak (digit groups with pauses, address parts
from large to small), not a parser: operators should check the result.
"""
from __future__ import annotations

import re

from ivr.tickets.numerals import digit_runs_to_arabic, normalize_address_numbers

# ---------------------------------------------------------------- phone

# Pauses between digit groups: 一八八 九三零二 四六七一 / 151，2638，0094 / 0943-8226789.
_GROUP_SEP = re.compile(r"^[\s,，、.。\-－—~～杠]{1,3}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0(?:10|2\d|[3-9]\d{2})\d{7,8}$")
_LOCAL = re.compile(r"^[2-9]\d{6,7}$")
# A bare 7/8-digit number is only a phone when the caller says so just before it.
_PHONE_CONTEXT = re.compile(r"(电话|号码|手机|座机|联系方式|打这个|回电)[^\d]{0,6}$")


def _format(number: str) -> str:
    if number.startswith("0"):
        area = 3 if number[1] in "12" else 4
        return f"{number[:area]}-{number[area:]}"
    return number


def extract_phone(text: str) -> str | None:
    """First call-back number: an 11-digit mobile, a landline with area code
    ("0943-8226789"), or a 7/8-digit local number right after 电话/号码."""
    converted = digit_runs_to_arabic(text)
    groups = [(m.start(), m.end()) for m in re.finditer(r"\d+", converted)]
    best: tuple[int, str] | None = None  # (rank, number); mobile/landline beat local
    for i, (start, _) in enumerate(groups):
        digits = ""
        for j in range(i, len(groups)):
            if j > i and not _GROUP_SEP.match(converted[groups[j - 1][1]:groups[j][0]]):
                break
            digits += converted[groups[j][0]:groups[j][1]]
            if len(digits) > 12:
                break
            if _MOBILE.match(digits) or _LANDLINE.match(digits):
                end_ok = j + 1 == len(groups) or not _GROUP_SEP.match(converted[groups[j][1]:groups[j + 1][0]])
                if end_ok or len(digits) == 11:
                    return _format(digits)
            if best is None and _LOCAL.match(digits) and _PHONE_CONTEXT.search(converted[:start]):
                best = (1, digits)
    return best[1] if best else None


# -------------------------------------------------------------- address

# Markers of a named place part; at one position the first that fits wins.
_NAMED = ("自治区", "省", "自治州", "市", "区", "县", "街道", "镇", "乡", "大道", "大街", "路", "街", "巷", "胡同",
          "社区", "小区", "新村", "花园", "家园", "公寓", "大厦", "广场", "村")
# Places that need no name of their own (会宁县汽车站, 火车站广场).
_LANDMARKS = ("火车站", "汽车站", "客运站", "高铁站")
_NUMBERED = re.compile(r"\d{1,5}(号楼|号院|号|栋|幢|座|单元|层|楼|室|社|组|队|巷|弄|排|户)")
# Characters that cannot be inside a place name: verbs, pronouns, particles.
_STOP = set("在住是的我你他她它们从到往去了个那这就说与跟给把被要想还也有没不很再又找向对里边叫打问吗呢啊吧嘛哪绕顺走修过拉送来")
# Words that end a name when met walking backwards (投诉|白银区, 落户|白银高新区).
_STOP_WORDS = ("投诉", "举报", "反映", "咨询", "落户", "位于", "地址", "老家", "户口", "房子", "工作", "上班", "居住",
               "附近", "旁边", "对面", "门口", "一家", "一个", "现在", "今天", "昨天", "还是", "属于", "一下", "表扬",
               "感谢", "建议")
# Marker characters that, followed by these, are ordinary words (市场, 村子, 路口 ...).
_NOT_AFTER = {
    "市": set("场民里区政长委级内面值容"), "村": set("子里上民干委支长"), "路": set("口边费灯况线段面公车汽"),
    "街": set("上头道"), "区": set("域别"), "县": set("里上"), "省": set("级里钱"), "镇": set("上里"),
}
# Generic words that look like places but name none.
_GENERIC = {"市区", "城区", "老城区", "郊区", "园区", "景区", "山区", "矿区", "片区", "辖区", "地区", "小区", "社区",
            "马路", "公路", "道路", "小路", "大路", "铁路", "水路", "线路", "农村", "乡村", "城市", "县城"}
# Endings that stay generic whatever comes before them (今年国庆景区, 司机半路, 小超市).
_AREA_WORDS = ("市区", "城区", "郊区", "景区", "山区", "片区", "辖区", "地区", "居民区", "住宅区", "生活区", "厂区",
               "半路", "一路", "走路", "马路", "公路", "道路", "小路", "大路", "铁路", "水路", "线路",
               "超市", "菜市", "夜市", "集市", "门市", "上市", "黑市", "股市", "城市", "都市",
               "老旧小区", "老小区", "新小区")
_FILLER = re.compile(r"^(那个|这个|就是|的|那边的|这边的|里的|，|、|\s)*$")
_DIRECTION = re.compile(r"^(城[东南西北]|[东南西北]关)")
_MAX_NAME = 6


def _name_before(text: str, pos: int, floor: int) -> str:
    start = pos
    while start > floor and pos - start < _MAX_NAME:
        ch = text[start - 1]
        if ch in _STOP or not ("\u3400" <= ch <= "\u9fff" or ch.isalpha()) or ch.isdigit():
            break
        if text.endswith(_STOP_WORDS, 0, start):
            break
        start -= 1
    return text[start:pos]


def _pieces(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, named) for every address part, left to right."""
    pieces: list[tuple[int, int, bool]] = []
    pos = floor = 0
    while pos < len(text):
        m = _NUMBERED.match(text, pos) if text[pos].isdigit() and (pos == 0 or not text[pos - 1].isdigit()) else None
        if m:
            pieces.append((pos, m.end(), False))
            pos = floor = m.end()
            continue
        landmark = next((lm for lm in _LANDMARKS if text.startswith(lm, pos)), None)
        if landmark:
            name = _name_before(text, pos, floor)
            pieces.append((pos - len(name), pos + len(landmark), True))
            pos = floor = pos + len(landmark)
            continue
        marker = next((mk for mk in _NAMED if text.startswith(mk, pos)), None)
        if marker:
            end = pos + len(marker)
            name = _name_before(text, pos, floor)
            after = text[end:end + 1]
            adjacent = bool(pieces) and pieces[-1][1] == pos and marker in ("广场", "大厦", "小区", "花园")
            ok = (len(name) >= (2 if marker in ("市", "区", "县", "路", "街", "村", "省", "镇", "乡") else 1) or adjacent) \
                and after not in _NOT_AFTER.get(marker, ()) and (name + marker) not in _GENERIC \
                and not (name + marker).endswith(_AREA_WORDS)
            if ok:
                pieces.append((pos - len(name), end, True))
                pos = floor = end
                continue
        pos += 1
    return pieces


def extract_address(text: str) -> str | None:
    """The longest chain of adjacent address parts, fillers dropped:
    '住在白银区四龙路那个金鱼小区，三号楼二单元' -> '白银区四龙路金鱼小区3号楼2单元'."""
    text = normalize_address_numbers(text)
    chains: list[list[tuple[int, int, bool]]] = []
    for piece in _pieces(text):
        if chains:
            prev_end = chains[-1][-1][1]
            gap = text[prev_end:piece[0]]
            joined = _FILLER.match(gap) and ("，" not in gap or not piece[2])
            short_area = len(gap) <= 3 and _DIRECTION.match(gap.rstrip("的"))
            if joined or short_area:
                chains[-1].append(piece)
                continue
        chains.append([piece])
    chains = [c for c in chains if any(named for _, _, named in c)]
    if not chains:
        return None
    best = max(chains, key=len)  # max() keeps the first of equal length
    out = []
    for i, (start, end, _) in enumerate(best):
        if i:
            gap = text[best[i - 1][1]:start]
            direction = _DIRECTION.match(gap)
            if direction:
                out.append(direction.group(0))
        out.append(text[start:end])
    tail = _DIRECTION.match(text[best[-1][1]:])
    if tail:
        out.append(tail.group(0))
    return "".join(out)
