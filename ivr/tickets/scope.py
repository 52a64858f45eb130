"""Matters 12345 does not accept (不受理), flagged for the agent.

The plan's list: matters for litigation, arbitration, discipline inspection,
administrative review or information disclosure, petitions already filed,
and anything touching state or commercial secrets or personal privacy. This
only flags; the agent decides.
"""
from __future__ import annotations

import re

from ivr.tickets.lexicon import Lexicon, default


def _rules(lex: Lexicon):
    howto = lex.out_of_scope_howto
    rules = [(reason, [re.compile(p) for p in patterns], re.compile(howto[reason]) if reason in howto else None)
             for reason, patterns in lex.out_of_scope.items()]
    return rules, re.compile(lex.out_of_scope_negation)


def out_of_scope(text: str, lex: Lexicon | None = None) -> tuple[str, str] | None:
    """(reason, matched words) for the first out-of-scope reason found, else None.

    `text` is a compacted transcript. A negated mention (我不想打官司) does not
    count, nor does a how-to question about suing or arbitration.
    """
    return read_scope(text, lex)[0]


def read_scope(text: str, lex: Lexicon | None = None) -> tuple[tuple[str, str] | None, bool]:
    """(out_of_scope's flag, whether any out-of-scope word is in `text` at all), in one pass: where the
    rules excused a word (a negated mention, a how-to question), their reading stands and the trained vote
    (ivr.tickets.scope_vote) is not asked."""
    rules, negation = (lex or default()).compiled("scope", _rules)
    said = False
    for reason, patterns, howto in rules:
        excused = howto is not None and howto.search(text)
        for rx in patterns:
            for m in rx.finditer(text):
                said = True
                if not excused and not negation.search(text[max(0, m.start() - 6):m.start()]):
                    return (reason, m.group(0)), True
    return None, said
