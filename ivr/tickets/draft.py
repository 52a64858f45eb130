"""Draft a work order (工单) from what the caller said.

`draft_ticket` turns a transcript into a `TicketDraft` the agent checks and
completes: category, the city's department (as named in its config), urgency
and deadline, address, call-back phone, out-of-scope flag and emergency.
Everything is rules over the lexicon (lexicon.yaml plus the city's own words
from config, `tickets.lexicon`; see ivr.tickets.lexicon), matched on the normalised transcript (ivr.tickets.normalize) and,
for plain words, on sound (ivr.tickets.sound). `why` says which words led to
the department and the category, so an agent sees the reason; when no word
named a department it says so instead of passing the general pool off as an
answer. Nothing here does I/O.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field

from ivr.config.model import Config, Line
from ivr.tickets.deadlines import WorkCalendar, deadline, local
from ivr.tickets.emergency import detect_emergency
from ivr.tickets.extract import extract_address, extract_phone
from ivr.tickets.normalize import normalize
from ivr.tickets.numerals import compact, digit_runs_to_arabic
from ivr.tickets.lexicon import Lexicon, lexicon_for
from ivr.tickets.scope import read_scope
from ivr.tickets.scope_vote import flag_by_vote
from ivr.tickets.topic_vote import Reading, decide
from ivr.tickets.sound import SoundIndex

__all__ = ["TicketDraft", "draft_ticket", "detect_emergency"]

SUMMARY_MAX = 40
SEVERE_HAZARD_REPORT = 2  # category weight a fire/gas/mine hazard adds to 举报
SOUND_PAIR_WEIGHT = 1     # most a two-character word heard by sound only may weigh
NIGHT_WORKS_WEIGHT = 3    # topic weight night-time construction noise adds to environment
NO_DEPARTMENT = "未识别到部门关键词，请人工选择承办部门"
_PLAIN_WORD = re.compile(r"^[\u3400-\u9fff]{2,}$")
_LEADING_FILLER = re.compile(r"^([，。、,.!?！？\s]|喂|您好|你好|嗯|啊|呃|那个|这个|就是|是12345吗)+")


@dataclass(frozen=True)
class TicketDraft:
    text: str
    summary: str
    category: str
    department: str
    department_line: str | None
    urgency: str
    deadline: str
    received: str
    address: str | None
    phone: str | None
    caller: str | None
    out_of_scope: bool
    out_of_scope_reason: str | None
    emergency: dict | None
    keywords: list[str] = field(default_factory=list)
    # Why: {"department": [...], "department_basis": "words|number|line|none", "category": [...]}
    why: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _compile(table: dict[str, dict[str, int]]):
    """(key, regex, weight) per entry, and a sound index of the plain words."""
    compiled = [(key, re.compile(p), w) for key, words in table.items() for p, w in words.items()]
    plain = {p: (key, w) for key, words in table.items() for p, w in words.items() if _PLAIN_WORD.match(p)}
    return compiled, plain, SoundIndex(plain)


class _Tables:
    """The drafting tables of one lexicon, compiled once (Lexicon.compiled)."""

    def __init__(self, lex: Lexicon):
        self.topics = _compile(lex.topics)
        self.categories = _compile(lex.categories)
        self.category_order = list(lex.categories)
        self.negated = re.compile(lex.negation_before)
        self.urgency = {name: re.compile(rx) for name, rx in lex.urgency.items()}


def _tables(lex: Lexicon) -> _Tables:
    return lex.compiled("draft", _Tables)


def _matches(text: str, table, negated: re.Pattern | None = None,
             negatable: tuple[str, ...] = ()) -> list[tuple[str, str, int, int]]:
    """(key, word, weight, start) for every match, by characters or by sound
    (shown as heard≈word); where matches overlap the longest is kept, so 乱停车
    is not also counted as 停车."""
    compiled, plain, sounds = table
    found = []
    for key, rx, weight in compiled:
        for m in rx.finditer(text):
            if m.end() > m.start():
                found.append((m.start(), m.end(), key, m.group(0), weight))
    for s in sounds.find(text):
        if s.heard != s.word:
            key, weight = plain[s.word]
            if len(s.word) == 2:  # 社宝 may be 社保, but 工商 is a word too: a weak hint only
                weight = min(weight, SOUND_PAIR_WEIGHT)
            found.append((s.start, s.end, key, f"{s.heard}≈{s.word}", weight))
    found.sort(key=lambda f: (-(f[1] - f[0]), f[0]))
    taken: list[tuple[int, int]] = []
    kept = []
    for start, end, key, word, weight in found:
        if any(start < e and s < end for s, e in taken):
            continue
        if key in negatable and negated and negated.search(text[max(0, start - 3):start]):
            continue
        taken.append((start, end))
        kept.append((key, word, weight, start))
    return sorted(kept, key=lambda k: k[3])


def _line_for_kind(kind: str, config: Config, lex: Lexicon) -> Line | None:
    seen: set[str] = set()
    while kind and kind not in seen:
        seen.add(kind)
        for word in lex.departments.get(kind, ()):
            for attr in ("department", "name"):
                line = next((ln for ln in config.lines if word in getattr(ln, attr)), None)
                if line:
                    return line
        kind = lex.fallback.get(kind, "")
    return None


def _line_by_number(text: str, config: Config) -> tuple[Line, str] | None:
    digits = digit_runs_to_arabic(text, min_len=3)  # already so when text is normalised
    for line in config.lines:
        for number in [*line.numbers, *line.aliases]:
            if re.search(rf"(?<!\d){re.escape(number)}(?!\d)", digits):
                return line, number
    return None


def _department(
    text: str, config: Config, lex: Lexicon, line_id: str | None, keywords: list[str], night_works: bool, why: dict
) -> tuple[str, str | None, int]:
    """(department, its line, the rule score of its words: 0 unless found by words)."""
    by_number = _line_by_number(text, config)
    if by_number:
        line, number = by_number
        keywords.append(f"number:{number}")
        why.update(department=[number], department_basis="number")
        return line.department, line.id, 0
    scores: dict[str, int] = {}
    first: dict[str, int] = {}
    lines: dict[str, str | None] = {}
    words: dict[str, list[str]] = {}
    found = _matches(text, _tables(lex).topics, _tables(lex).negated, lex.negatable_kinds)
    if night_works:  # night-time construction noise is the environment department's
        found.append(("environment", "夜间施工", NIGHT_WORKS_WEIGHT, len(text)))
    for kind, word, weight, start in found:
        line = _line_for_kind(kind, config, lex)
        dept = line.department if line else lex.general_pool
        scores[dept] = scores.get(dept, 0) + weight
        first.setdefault(dept, start)
        lines.setdefault(dept, line.id if line else None)
        words.setdefault(dept, []).append(f"{word}({weight})")
        keywords.append(f"{kind}:{word}")
    if scores:
        best = max(scores, key=lambda d: (scores[d], -first[d]))
        why.update(department=words[best], department_basis="words")
        return best, lines[best], scores[best]
    line = config.line(line_id) if line_id else None
    if line:
        keywords.append(f"line:{line.id}")
        why.update(department=[f"来电线路 {line.id}"], department_basis="line")
        return line.department, line.id, 0
    why.update(department=[NO_DEPARTMENT], department_basis="none")
    return lex.general_pool, None, 0


def _category(text: str, lex: Lexicon, emergency: dict | None, urgency: str, keywords: list[str],
              why: dict) -> tuple[str, int]:
    """(category, the rule score of its words: 0 when no word asked for one)."""
    if emergency:
        why["category"] = [emergency.get("reason") or f"紧急情况:{emergency['phrase']}"]  # 可能紧急，请核实：…
        return "求助", 100
    tables = _tables(lex)
    order = tables.category_order
    scores = dict.fromkeys(order, 0)
    words: dict[str, list[str]] = {c: [] for c in order}
    if urgency == "same_day":
        scores["举报"] += SEVERE_HAZARD_REPORT
        words["举报"].append(f"严重隐患({SEVERE_HAZARD_REPORT})")
    for cat, word, weight, _ in _matches(text, tables.categories):
        scores[cat] += weight
        words[cat].append(f"{word}({weight})")
        keywords.append(f"{cat}:{word}")
    best = max(order, key=lambda c: (scores[c], -order.index(c)))
    why["category"] = words[best] if scores[best] else ["未提出诉求，按投诉"]
    return (best, scores[best]) if scores[best] else ("投诉", 0)


def _urgency(text: str, lex: Lexicon, emergency: dict | None, when: dt.datetime, keywords: list[str]) -> str:
    if emergency:
        return "immediate"
    rx = _tables(lex).urgency
    construction = rx["construction"].search(text)
    if construction:
        night = rx["night"].search(text)
        if night or ((when.hour >= 22 or when.hour < 6) and rx["now"].search(text)):
            keywords.append(f"urgency:{construction.group(0)}+{night.group(0) if night else 'now'}")
            return "immediate"
    outage = rx["utility_outage"].search(text)
    if outage:
        keywords.append(f"urgency:{outage.group(0)}")
        return "30min"
    hazard = rx["hazard"].search(text)
    if hazard:
        severe = rx["severe_hazard"].search(text)
        keywords.append(f"urgency:{hazard.group(0)}" + (f"+{severe.group(0)}" if severe else ""))
        return "same_day" if severe else "3days"
    enterprise = rx["enterprise"].search(text)
    if enterprise and not rx["worker_grievance"].search(text):
        keywords.append(f"urgency:{enterprise.group(0)}")
        return "15workdays"
    return "5workdays"


def _summary(text: str) -> str:
    s = _LEADING_FILLER.sub("", text).strip()
    return s if len(s) <= SUMMARY_MAX else s[:SUMMARY_MAX - 1] + "…"


def draft_ticket(
    text: str,
    config: Config,
    *,
    at: dt.datetime,
    caller: str | None = None,
    line_id: str | None = None,
    calendar: WorkCalendar | None = None,
    tags: str | None = None,
) -> TicketDraft:
    """Draft a ticket from a transcript received at `at` (naive = hotline local time).

    `line_id` is the old line the call came in on: its department is used
    when the words name no topic. `calendar` adds the city's holidays.
    `tags` (HOTLINE_TAGS): an `enterprise` caller's (一企来) ordinary matter is
    due in 15 working days, as a matter the words show to be an enterprise's.
    """
    raw = text if isinstance(text, str) else ""
    clean = compact(raw)
    lex = lexicon_for(config.tickets.lexicon, config.tickets.possible.model_dump())
    said = normalize(raw, lex)  # what the lexicons read
    tz = config.hotline.timezone
    when = local(at, tz)
    keywords: list[str] = []
    why: dict = {}
    emergency = detect_emergency(raw, lex)
    if emergency:
        keywords.append(f"emergency:{emergency['phrase']}")
    # A vote of the trained model alone asks the agent (可能紧急，请核实); until the agent agrees,
    # the matter's category and urgency are what its words say.
    settled = emergency if emergency and emergency.get("by") != "model" else None
    scope, scope_words = read_scope(said, lex)
    if not scope and not settled and not scope_words:   # the vote reads what the plan's words did not
        scope = flag_by_vote(said, config.tickets.scope_vote)
    if scope:
        keywords.append(f"out_of_scope:{scope[1]}")
    urgency = _urgency(said, lex, settled, when, keywords)
    if urgency == "5workdays" and "enterprise" in (tags or "").split():
        urgency = "15workdays"
        keywords.append("urgency:一企来")
    night_works = urgency == "immediate" and not settled
    department, dept_line, dept_score = _department(said, config, lex, line_id, keywords, night_works, why)
    category, cat_score = _category(said, lex, settled, urgency, keywords, why)
    if not settled:  # an emergency handed over is 求助 to the emergency service, whatever a vote says
        reading = Reading(department, dept_line, why["department_basis"], dept_score, category, cat_score)
        department, dept_line, category = decide(reading, said, config, lex.general_pool, why, keywords)
    return TicketDraft(
        text=raw,
        summary=_summary(clean),
        category=category,
        department=department,
        department_line=dept_line,
        urgency=urgency,
        deadline=deadline(urgency, when, tz, calendar).isoformat(timespec="seconds"),
        received=when.isoformat(timespec="seconds"),
        address=extract_address(clean),
        phone=extract_phone(clean),
        caller=caller,
        out_of_scope=scope is not None,
        out_of_scope_reason=scope[0] if scope else None,
        emergency=emergency,
        keywords=list(dict.fromkeys(keywords)),
        why=why,
    )
