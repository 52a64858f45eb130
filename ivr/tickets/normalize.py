"""Turn what a caller said into plain Mandarin before any lexicon looks at it.

Phone speech is full of fillers (嗯, 那个, 就是说, 我跟你说) that split the
words a lexicon looks for (拿着那个刀), and of dialect words a Mandarin
lexicon does not know (Gansu: 阿达 for 哪里, 克 for 去, 尕娃 for 小孩, 夜个
for 昨天). `normalize` drops the fillers, rewrites dialect words to Mandarin
and reads spoken digit strings of three digits or more (幺二零 → 120;
一下 and 两个 stay words). A city adds its own dialect
words and fillers in config (speech.dialect, speech.fillers); see
docs/tickets.md. Only matching uses the normalised text: the ticket keeps
what was said.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ivr.tickets.numerals import compact, digit_runs_to_arabic

# Said to fill a pause; they carry no meaning. Longest first.
FILLERS: tuple[str, ...] = (
    "我跟你说", "我给你说", "跟你说", "就是说", "你知道吧", "你知道不", "怎么说呢", "你晓得吧",
    "那个那个", "这个这个", "那个", "嗯嗯", "嗯", "呃", "唔",
)

# Northwest (Gansu) dialect -> Mandarin. Regex keys, so a word that is also
# part of ordinary words can be limited (克 is 去 only where it is a verb).
DIALECT: dict[str, str] = {
    "阿达|阿搭|阿哒|哪达": "哪里",
    "夜个|夜里个|夜儿个": "昨天",
    "今儿个": "今天",
    "明儿个": "明天",
    "尕娃|尕娃娃|小娃娃|碎娃": "小孩",
    "娃娃": "孩子",
    "尕(?=[孩子妹弟])": "小",
    "(?<![千公毫巧坦马])克(?![服隆拉力罗斯])": "去",
    "咋": "怎么",
    "啥": "什么",
    "木有|莫有|么有": "没有",
    "晓不得|不晓得": "不知道",
    "不得行": "不行",
    "婆姨": "媳妇",
    "先人": "祖宗",
}


def _pattern(words) -> re.Pattern | None:
    words = sorted({w for w in words if w}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words)) if words else None


@lru_cache(maxsize=16)
def _rules(extra_dialect: tuple[tuple[str, str], ...], extra_fillers: tuple[str, ...]):
    fillers = _pattern((*FILLERS, *extra_fillers))
    # A city's own words are plain words (escaped) and go first: they may
    # refine a default rule (e.g. 克 in a place name).
    dialect = [(re.compile(re.escape(k)), v) for k, v in extra_dialect]
    dialect += [(re.compile(k), v) for k, v in DIALECT.items()]
    return fillers, dialect


def normalize(text: str, dialect: dict[str, str] | None = None, fillers: tuple[str, ...] = ()) -> str:
    """Compacted, filler-free, Mandarin, with spoken digit runs as Arabic digits."""
    fill, rules = _rules(tuple(sorted((dialect or {}).items())), tuple(fillers))
    out = compact(text or "")
    if fill is not None:
        out = fill.sub("", out)
    for rx, mandarin in rules:
        out = rx.sub(mandarin, out)
    return digit_runs_to_arabic(out, min_len=3)
