"""A plain progress bar on stderr for batch transcription (no extra dependency).

Progress is measured in seconds of audio, not files: one long recording
should not look like one step. Updates come from the engine's worker threads.
On a terminal the bar redraws in place; in a log (not a TTY) it is printed at
most every `log_interval` seconds.
"""
from __future__ import annotations

import sys
import threading
import time
from typing import Hashable, TextIO


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


class Progress:
    def __init__(self, durations: dict[Hashable, float], out: TextIO | None = None, width: int = 30,
                 interval: float = 0.2, log_interval: float = 10.0) -> None:
        self._durations = durations
        self._done = {k: 0.0 for k in durations}
        self._total = sum(durations.values()) or 1.0
        self._out, self._width = out or sys.stderr, width
        self._tty = self._out.isatty()
        self._interval = interval if self._tty else log_interval
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._last = 0.0
        self._shown = False
        self._logged = ""

    def update(self, key: Hashable, fraction: float) -> None:
        with self._lock:
            self._done[key] = max(self._done.get(key, 0.0), min(1.0, fraction))
            now = time.monotonic()
            if now - self._last >= self._interval or self._complete():
                self._last = now
                self._draw()

    def message(self, text: str) -> None:
        with self._lock:
            if self._tty and self._shown:
                self._out.write("\r\033[K")
            self._out.write(text + "\n")
            self._shown = False
            if self._tty:
                self._draw()

    def close(self) -> None:
        with self._lock:
            self._draw()
            if self._tty:
                self._out.write("\n")
            self._out.flush()

    def line(self) -> str:
        audio = sum(self._durations.get(k, 0.0) * f for k, f in self._done.items())
        share = min(1.0, audio / self._total)
        filled = int(share * self._width)
        files = sum(1 for f in self._done.values() if f >= 1.0)
        elapsed = time.monotonic() - self._started
        speed = f"  {audio / elapsed:.1f}x real time" if elapsed > 0 and audio > 0 else ""
        return (f"[{'#' * filled}{'-' * (self._width - filled)}] {share * 100:3.0f}%  "
                f"{files}/{len(self._done)} files  {_clock(audio)} of {_clock(self._total)} audio{speed}")

    def _complete(self) -> bool:
        return all(f >= 1.0 for f in self._done.values())

    def _draw(self) -> None:
        line = self.line()
        if self._tty:
            self._out.write("\r\033[K" + line)
        elif line != self._logged:  # a log gets no repeated lines
            self._out.write(line + "\n")
            self._logged = line
        self._out.flush()
        self._shown = True
