"""Find words by how they sound, so a recognizer's sound-alike characters still match.

An 8 kHz phone recognizer writes 公鸡金 for 公积金, 社宝 for 社保, 着伙 for
着火: different characters, same syllables. A word matches a stretch of the
transcript when each character is either the word's own or a character whose
usual toned reading (pypinyin) is the word's reading there. Rules that keep
it from matching everything: tones must agree (大人 dà rén is no 打人 dǎ rén,
啥人 no 杀人); the word is read as a word (骨折 is gǔ zhé, not every reading
of 骨 and 折) and a text character only by its usual reading (跳's rare diào
does not make 上跳 an 上吊); at least one character must be heard as written
(a recognizer swaps a character, rarely a whole word: 服务时间 holds no 误食);
a very frequent character (是, 的, 了 ...) never stands in for another (火是
is no 火势). Words of four characters or more also match with one inner
character dropped (不省事 for 不省人事), as a noisy line does to long words.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, pinyin

DROP_MIN_LEN = 4  # words this long match with one inner character dropped
# Characters so frequent that one standing where a word's character should be
# is the sentence's own word, not a mishearing (火是 is not 火势).
FUNCTION_CHARS = frozenset("是的了在有个这那就也都不和我你他她它们么吗呢啊吧得地还又")


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


@lru_cache(maxsize=8192)
def reading(ch: str) -> str:
    """A character's usual toned reading; a non-Chinese character reads as itself."""
    if not _is_han(ch) or ch in FUNCTION_CHARS:
        return ch
    return pinyin(ch, style=Style.TONE3, heteronym=False)[0][0]


def word_reading(word: str) -> list[str]:
    """The reading of a word as a word (pypinyin's phrase dictionary picks heteronyms)."""
    return [r[0] for r in pinyin(word, style=Style.TONE3, heteronym=False)]


@dataclass(frozen=True)
class SoundMatch:
    start: int
    end: int
    word: str    # the lexicon word that sounded like text[start:end]
    heard: str   # what the transcript says there


class SoundIndex:
    """Literal words looked up by sound; built once per lexicon."""

    def __init__(self, words) -> None:
        # Per word and character: the character itself and its reading in the word.
        self.words: list[tuple[str, tuple[frozenset[str], ...]]] = []
        self._by_first: dict[str, list[int]] = {}
        for word in dict.fromkeys(w for w in words if len(w) >= 2 and all(_is_han(c) for c in w)):
            idx = len(self.words)
            sounds = tuple(frozenset((c, r)) for c, r in zip(word, word_reading(word)))
            self.words.append((word, sounds))
            for key in sounds[0]:
                self._by_first.setdefault(key, []).append(idx)

    def find(self, text: str) -> list[SoundMatch]:
        """Every place a word sounds like the text (exact or one inner character dropped)."""
        keys = [(ch, reading(ch)) for ch in text]
        out: list[SoundMatch] = []
        for i, (ch, r) in enumerate(keys):
            for idx in set(self._by_first.get(ch, ())) | set(self._by_first.get(r, ())):
                word, sounds = self.words[idx]
                for end in _match_at(keys, i, sounds):
                    if (set(word) & set(text[i:end])) - FUNCTION_CHARS:  # else another word, not a mishearing
                        out.append(SoundMatch(i, end, word, text[i:end]))
        return out


def _same(key: tuple[str, str], sound: frozenset[str]) -> bool:
    return key[0] in sound or key[1] in sound


def _match_at(keys: list[tuple[str, str]], i: int, sounds: tuple[frozenset[str], ...]) -> list[int]:
    n = len(sounds)
    ends = []
    if i + n <= len(keys) and all(_same(keys[i + k], sounds[k]) for k in range(n)):
        ends.append(i + n)
    if n >= DROP_MIN_LEN and i + n - 1 <= len(keys):
        for drop in range(1, n - 1):  # never the first or last character
            kept = sounds[:drop] + sounds[drop + 1:]
            if all(_same(keys[i + k], kept[k]) for k in range(n - 1)):
                ends.append(i + n - 1)
                break
    return ends
