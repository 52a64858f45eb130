"""Turn what a caller said into plain Mandarin before any lexicon looks at it.

Phone speech is full of fillers (嗯, 那个, 就是说, 我跟你说) that split the
words a lexicon looks for (拿着那个刀), and of dialect words a Mandarin
lexicon does not know (Gansu: 阿达 for 哪里, 克 for 去, 尕娃 for 小孩, 夜个
for 昨天). Both lists are data (lexicon.yaml `fillers`, `dialect`). `normalize` drops the fillers, rewrites dialect words to Mandarin
and reads spoken digit strings of three digits or more (幺二零 → 120;
一下 and 两个 stay words). A city adds its own dialect
words and fillers in config (tickets.lexicon); see
docs/tickets.md. Only matching uses the normalised text: the ticket keeps
what was said.
"""
from __future__ import annotations

import re

from ivr.tickets.lexicon import Lexicon, default
from ivr.tickets.numerals import compact, digit_runs_to_arabic

def _pattern(words) -> re.Pattern | None:
    words = sorted({w for w in words if w}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words)) if words else None


def _rules(lex: Lexicon):
    fillers = _pattern(lex.fillers)
    # A city's own words are plain words (escaped) and come first in lex.dialect:
    # they may refine a shipped rule (e.g. 克 in a place name).
    return fillers, [(re.compile(k), v) for k, v in lex.dialect.items()]


def normalize(text: str, lex: Lexicon | None = None) -> str:
    """Compacted, filler-free, Mandarin, with spoken digit runs as Arabic digits."""
    fill, rules = (lex or default()).compiled("normalize", _rules)
    out = compact(text or "")
    if fill is not None:
        out = fill.sub("", out)
    for rx, mandarin in rules:
        out = rx.sub(mandarin, out)
    return digit_runs_to_arabic(out, min_len=3)
