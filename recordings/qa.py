"""Quality inspection (质检) rules: a recorded call's two transcripts -> a 0-100 score with evidence.

Pure: no I/O, no Asterisk, no model. Input is what the speech engine gives
for each side of a recording (utterances with start/end seconds and text,
second 0 = the moment someone answered, see recordings/dialplan.py), the
call's length and its hold time; output is one `Finding` per rule with the
time offsets a supervisor jumps to in playback. Each rule has a weight from
config (`recordings.qa.weights`, 0 = off); a call scores the weighted share
of the rules it passes, so 100 means every weighted rule passed.

Vosk writes Chinese with spaces between words; words are matched after the
spaces are removed, literally (never as patterns). A word's time inside an
utterance is estimated by its character position between the utterance's
start and end: close enough to land the playback on the sentence.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ivr.config.recordings_model import QaRules


@dataclass(frozen=True)
class Said:
    start: float
    end: float
    text: str

    @property
    def plain(self) -> str:
        return "".join(self.text.split())


@dataclass
class Finding:
    rule: str
    passed: bool
    weight: int
    detail: str
    evidence: list[dict[str, Any]] = field(default_factory=list)  # {"at", "end", "side", "text"}


@dataclass
class Score:
    score: int
    findings: list[Finding]

    def to_json(self) -> dict[str, Any]:
        return {"score": self.score, "rules": [asdict(f) for f in self.findings]}


def utterances(items: Iterable[Any]) -> list[Said]:
    """Said items from Transcript utterances or dicts with start/end/text; empty texts dropped, in time order."""
    out = []
    for u in items:
        get = u.get if isinstance(u, dict) else (lambda k, _u=u: getattr(_u, k))
        text = str(get("text") or "")
        if text.strip():
            out.append(Said(float(get("start")), float(get("end")), text))
    return sorted(out, key=lambda s: s.start)


def _hits(side: str, said: Sequence[Said], words: Sequence[str]) -> list[dict[str, Any]]:
    found = []
    for s in said:
        plain = s.plain
        for w in words:
            i = plain.find(w)
            if i >= 0:
                at = s.start + (s.end - s.start) * i / max(1, len(plain))
                found.append({"at": round(at, 2), "end": round(s.end, 2), "side": side, "word": w, "text": s.text})
    return found


def _union(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _overlap(xs: list[tuple[float, float]], ys: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out, i, j = [], 0, 0
    while i < len(xs) and j < len(ys):
        a, b = max(xs[i][0], ys[j][0]), min(xs[i][1], ys[j][1])
        if a < b:
            out.append((a, b))
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return out


def _ev(at: float, end: float, side: str, text: str = "") -> dict[str, Any]:
    return {"at": round(at, 2), "end": round(end, 2), "side": side, "text": text}


def score(caller: Sequence[Said], agent: Sequence[Said], duration: float, rules: QaRules,
          hold_seconds: float = 0.0) -> Score:
    """Score one call. `caller`/`agent`: what each side said; `duration`: seconds of the recording."""
    w = rules.weights
    found: list[Finding] = []

    greet = [h for h in _hits("agent", agent, rules.greeting_words) if h["at"] <= rules.greeting_within]
    first = agent[0].start if agent else None
    found.append(Finding("greeting", bool(greet), w["greeting"],
                         f"问候语在{greet[0]['at']}秒" if greet else
                         f"{rules.greeting_within:g}秒内没有问候语（坐席首句在{first}秒）" if first is not None
                         else "坐席没有说话", greet[:1] or ([_ev(first, agent[0].end, "agent", agent[0].text)] if agent else [])))

    tail = max(0.0, duration - rules.closing_within)
    close = [h for h in _hits("agent", agent, rules.closing_words) if h["end"] >= tail]
    found.append(Finding("closing", bool(close), w["closing"],
                         f"结束语在{close[-1]['at']}秒" if close else f"最后{rules.closing_within:g}秒没有结束语",
                         close[-1:]))

    bad = _hits("agent", agent, rules.forbidden_words)
    found.append(Finding("forbidden", not bad, w["forbidden"],
                         "无服务禁语" if not bad else "服务禁语：" + "、".join(dict.fromkeys(h["word"] for h in bad)), bad))

    speech = _union([(s.start, s.end) for s in [*caller, *agent]])
    gaps, last = [], 0.0
    for a, b in speech + [(duration, duration)]:
        if a - last > rules.max_silence:
            gaps.append(_ev(last, a, "both"))
        last = max(last, b)
    found.append(Finding("silence", not gaps, w["silence"],
                         "无长时间静默" if not gaps else f"{len(gaps)}处静默超过{rules.max_silence:g}秒", gaps))

    c_spans, a_spans = _union((s.start, s.end) for s in caller), _union((s.start, s.end) for s in agent)
    both = _overlap(c_spans, a_spans)
    talk = sum(b - a for a, b in speech)
    ratio = sum(b - a for a, b in both) / talk if talk else 0.0
    found.append(Finding("talk_over", ratio <= rules.max_talk_over, w["talk_over"],
                         f"抢话比例{ratio:.0%}（上限{rules.max_talk_over:.0%}）",
                         [_ev(a, b, "both") for a, b in both if b - a >= 0.5]))

    agent_time = sum(b - a for a, b in a_spans)
    chars = sum(len(s.plain) for s in agent)
    rate = chars * 60 / agent_time if agent_time > 0 else 0.0
    low, high = rules.speech_rate
    found.append(Finding("speech_rate", not agent or low <= rate <= high, w["speech_rate"],
                         f"语速{rate:.0f}字/分钟（{low}-{high}）" if agent else "坐席没有说话", []))

    found.append(Finding("hold", hold_seconds <= rules.max_hold, w["hold"],
                         f"保持{hold_seconds:.0f}秒（上限{rules.max_hold:g}秒）", []))

    upset = _hits("caller", caller, rules.distress_words)
    found.append(Finding("distress", not upset, w["distress"],
                         "来电人无不满表达" if not upset else
                         "来电人不满/投诉：" + "、".join(dict.fromkeys(h["word"] for h in upset)), upset))

    total = sum(f.weight for f in found)
    got = sum(f.weight for f in found if f.passed)
    return Score(round(100 * got / total) if total else 100, found)
