"""One recognizer's input path: resample to the model's rate, feed Vosk in fixed blocks.

Kaldi's online decoding depends on how audio is cut into AcceptWaveform
calls (its i-vector and endpoint checks run per call). Feeding fixed 20 ms
blocks, whatever size the audio arrived in, makes a call's text independent of
network packet sizes and worker timing: the live stream, the batch
transcriber and a plain decode of the same samples all cut the same way.
"""
from __future__ import annotations

import json
from typing import Any

from ivr.speech import model as vmodel
from ivr.speech.resample import Resampler

BLOCK_SECONDS = 0.02


class Decoder:
    def __init__(self, model: Any, info: vmodel.ModelInfo, rate_in: int, words: bool = False,
                 grammar: list[str] | None = None) -> None:
        self._rec = vmodel.recognizer(model, info.sample_rate, words=words, grammar=grammar)
        self._resampler = Resampler(rate_in, info.sample_rate)
        self._block = int(BLOCK_SECONDS * info.sample_rate) * 2
        self._carry = b""

    def accept(self, pcm: bytes) -> list[dict]:
        """Decode `pcm` (s16le at rate_in); returns the utterances it completed."""
        data = self._carry + self._resampler.process(pcm)
        end = len(data) - len(data) % self._block
        self._carry = data[end:]
        return [r for r in (self._feed(data[i:i + self._block]) for i in range(0, end, self._block)) if r]

    def partial(self) -> str:
        return json.loads(self._rec.PartialResult()).get("partial", "")

    def finish(self) -> list[dict]:
        """End of audio: decode the rest and close the last utterance."""
        data = self._carry + self._resampler.flush()
        self._carry = b""
        done = [r for r in (self._feed(data[i:i + self._block]) for i in range(0, len(data), self._block)) if r]
        last = json.loads(self._rec.FinalResult())
        return done + ([last] if last.get("text") else [])

    def cut(self) -> list[dict]:
        """End the current utterance here (our endpointer heard it end); the next starts fresh."""
        last = json.loads(self._rec.FinalResult())
        return [last] if last.get("text") else []

    def _feed(self, block: bytes) -> dict | None:
        if self._rec.AcceptWaveform(block):
            result = json.loads(self._rec.Result())
            return result if result.get("text") else None
        return None


def blocks(pcm: bytes, rate: int) -> list[bytes]:
    """`pcm` at the model's rate cut the way `Decoder` cuts it (for plain-vosk comparisons)."""
    size = int(BLOCK_SECONDS * rate) * 2
    return [pcm[i:i + size] for i in range(0, len(pcm), size)]
