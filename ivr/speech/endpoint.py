"""Our own end of utterance: energy and timing, so the final text comes early.

Vosk 0.3.45 has no endpointer setting: its own rule waits for 0.5-2 s of
trailing silence before it closes an utterance, which put the final text in
the agent's pop 1.45 s after the caller stopped. `Endpointer` watches the
audio as it is fed: once it has heard speech (20 ms frames well above the
line's noise floor, for at least `min_speech` seconds) followed by `silence`
seconds of frames back at the floor, it says "cut here", and the engine takes
the recognizer's final result at that point. The noise floor follows the
quiet frames, so a hissing line does not count as speech.
"""
from __future__ import annotations

import numpy as np

FRAME_SECONDS = 0.02
ABS_SPEECH_RMS = 200.0     # s16 RMS below this is never speech (about -44 dBFS)
SPEECH_OVER_FLOOR = 4.0    # a frame is speech when its RMS is this many times the floor
FLOOR_ADAPT = 0.05         # how fast the floor follows quiet frames


class Endpointer:
    def __init__(self, rate: int, silence: float = 0.3, min_speech: float = 0.15) -> None:
        self.frame_bytes = int(FRAME_SECONDS * rate) * 2
        self.silence_frames = max(1, round(silence / FRAME_SECONDS))
        self.min_speech_frames = max(1, round(min_speech / FRAME_SECONDS))
        self._carry = b""
        self._floor = ABS_SPEECH_RMS / SPEECH_OVER_FLOOR
        self._speech = 0    # speech frames in the current utterance
        self._quiet = 0     # quiet frames since the last speech frame

    def push(self, pcm: bytes) -> list[int]:
        """Offsets in `pcm` (bytes, frame-aligned to what was fed before) where an utterance ends."""
        data = self._carry + pcm
        usable = len(data) - len(data) % self.frame_bytes
        self._carry = data[usable:]
        cuts = []
        if usable:
            frames = np.frombuffer(data[:usable], dtype="<i2").astype(np.float64).reshape(-1, self.frame_bytes // 2)
            for i, rms in enumerate(np.sqrt((frames ** 2).mean(axis=1))):
                if self._frame(float(rms)):
                    # offset in `pcm`: the carry from before came first
                    cuts.append(max(0, (i + 1) * self.frame_bytes - (len(data) - len(pcm))))
        return cuts

    def _frame(self, rms: float) -> bool:
        if rms >= max(ABS_SPEECH_RMS, SPEECH_OVER_FLOOR * self._floor):
            self._speech += 1
            self._quiet = 0
            return False
        self._floor += FLOOR_ADAPT * (rms - self._floor)
        if self._speech < self.min_speech_frames:
            self._speech = 0 if self._quiet > self.silence_frames else self._speech
            self._quiet += 1
            return False
        self._quiet += 1
        if self._quiet >= self.silence_frames:
            self._speech = self._quiet = 0
            return True
        return False
