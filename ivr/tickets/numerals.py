"""Chinese numerals in transcripts: phone numbers and house numbers.

Callers read phone numbers digit by digit (幺三九一二三四五六七八, 洞 and 〇
for zero, 两 for two) and house numbers positionally (一百二十三号, 三号楼).
Speech recognisers write both as Chinese characters, and ASR output also puts
spaces between words. These helpers turn them into Arabic digits without
touching ordinary words such as 一下, 统一 or 万一.
"""
from __future__ import annotations

import re

DIGITS = {
    "零": 0, "〇": 0, "○": 0, "洞": 0,
    "幺": 1, "一": 1, "壹": 1,
    "二": 2, "两": 2, "贰": 2,
    "三": 3, "叁": 3, "四": 4, "肆": 4, "五": 5, "伍": 5,
    "六": 6, "陆": 6, "七": 7, "柒": 7, "拐": 7, "八": 8, "捌": 8, "九": 9, "玖": 9, "勾": 9,
}
UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
# Only plain digit characters take part in runs; 拐/勾 (radio style 7/9) are
# accepted by spoken_digits() but too common as words to scan for.
_RUN_DIGITS = "零〇○洞幺一二两三四五六七八九"
_RUN_UNITS = "十百千万"
RUN_RE = re.compile(f"[{_RUN_DIGITS}{_RUN_UNITS}]+")
# Characters that make 一 the start of a word (一直, 一下, 一个 ...).
_WORD_AFTER_YI = set("直下个些点样起定般次共天会边旁家")
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_CJK = r"\u3400-\u9fff"
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])")

# What may follow a number in an address: 3号楼, 2单元, 502室, 3社 ...
ADDRESS_NUMBER_MARKERS = ("号楼", "号院", "号", "栋", "幢", "座", "单元", "层", "楼", "室", "社", "组", "队", "巷", "弄", "排", "户")
_ADDRESS_NUM_RE = re.compile(f"[{_RUN_DIGITS}{_RUN_UNITS}]+(?=" + "|".join(ADDRESS_NUMBER_MARKERS) + ")")


def compact(text: str) -> str:
    """Remove the spaces an ASR puts between Chinese words; keep other spacing."""
    return _SPACE_BETWEEN_CJK.sub("", text.translate(_FULLWIDTH)).strip()


def spoken_digits(chars: str) -> str:
    """Digit-by-digit reading: '幺三九' -> '139'. ValueError on anything else."""
    out = []
    for ch in chars:
        if ch.isdigit():
            out.append(ch.translate(_FULLWIDTH))
        elif ch in DIGITS:
            out.append(str(DIGITS[ch]))
        else:
            raise ValueError(f"not a spoken digit: {ch!r}")
    return "".join(out)


def cn_to_int(text: str) -> int:
    """Positional Chinese number to int: 一百零五 -> 105, 十二 -> 12, 一千二 -> 1200.

    A run of bare digits is read digit by digit (二零三 -> 203). Colloquial
    tails count in the next lower unit (一百二 = 120, 三万五 = 35000).
    """
    if not text:
        raise ValueError("empty number")
    if all(ch in DIGITS for ch in text):
        return int(spoken_digits(text))
    total = section = num = 0
    prev_unit = 1
    zero_seen = False
    for ch in text:
        if ch in DIGITS:
            if DIGITS[ch] == 0:
                zero_seen = True
                continue
            if num:
                raise ValueError(f"two digits in a row in {text!r}")
            num = DIGITS[ch]
        elif ch == "万":
            if not (section or num):
                raise ValueError(f"万 without a number in {text!r}")
            total += (section + num) * 10000
            section = num = 0
            prev_unit, zero_seen = 10000, False
        elif ch in UNITS:
            unit = UNITS[ch]
            if not num:
                if unit != 10:
                    raise ValueError(f"{ch} without a number in {text!r}")
                num = 1  # 十二 = 12, 一百十 = 110
            section += num * unit
            num, prev_unit, zero_seen = 0, unit, False
        else:
            raise ValueError(f"not a Chinese numeral: {ch!r}")
    if num:
        section += num * prev_unit // 10 if (prev_unit >= 100 and not zero_seen) else num
    return total + section


def digit_runs_to_arabic(text: str, min_len: int = 1) -> str:
    """Rewrite every run of bare spoken digits as Arabic digits (for phone numbers).

    Runs with 十/百/千/万 are positional quantities (三十天), never phone digits,
    and are left alone; so are runs shorter than `min_len` (3 keeps 一下 and
    两个 words while 幺二零 becomes 120).
    """
    def sub(m: re.Match) -> str:
        run = m.group(0)
        if any(ch in _RUN_UNITS for ch in run) or len(run) < min_len:
            return run
        # 幺二三三三一直打不通: the last 一 starts the word 一直, it is no digit.
        if len(run) > 1 and run[-1] == "一" and text[m.end():m.end() + 1] in _WORD_AFTER_YI:
            return spoken_digits(run[:-1]) + "一"
        return spoken_digits(run)

    return RUN_RE.sub(sub, text)


def normalize_address_numbers(text: str) -> str:
    """Numbers before an address marker to Arabic: 一百零五号三单元五零二室 -> 105号3单元502室.

    Numerals elsewhere stay as they are, so place names like 五一街 or
    一条山镇 keep their characters.
    """
    def sub(m: re.Match) -> str:
        try:
            return str(cn_to_int(m.group(0)))
        except ValueError:
            return m.group(0)

    return _ADDRESS_NUM_RE.sub(sub, text)
