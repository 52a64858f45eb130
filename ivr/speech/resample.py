"""Streaming sample-rate conversion for 16-bit mono PCM (phone 8 kHz -> model rate).

A rational polyphase FIR resampler: upsample by L, low-pass, downsample by M,
computing only the output samples that are kept. The low-pass is a
Kaiser-windowed sinc whose cutoff sits just below half the lower of the two
rates, so upsampling leaves no spectral images above 4 kHz and downsampling
does not alias. Audio can arrive in chunks of any size: the resampler keeps the
filter history between chunks, and the output of a chunked run is identical to
one call over the whole signal. Output is aligned with the input (the filter's
delay is compensated) and `flush()` emits the tail, so a signal of n samples
becomes ceil(n * out / in) samples.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# Filter length per max(L, M): 64 input-rate taps give ~690 Hz of transition
# band at 8 kHz (passband flat to ~3.3 kHz, the telephone band) with a Kaiser
# beta of 8.6 (~85 dB stopband).
TAPS_PER_PHASE = 64
KAISER_BETA = 8.6
# Centre of the transition band as a fraction of the lower Nyquist frequency.
ROLLOFF = 0.915
# Samples resampled per numpy step: bounds temporary memory for long files.
BLOCK = 8192


def design_filter(up: int, down: int, taps_per_phase: int = TAPS_PER_PHASE,
                  beta: float = KAISER_BETA, rolloff: float = ROLLOFF) -> np.ndarray:
    """Low-pass prototype at the upsampled rate, odd length, DC gain `up`."""
    half = taps_per_phase * max(up, down) // 2
    k = np.arange(-half, half + 1, dtype=np.float64)
    cutoff = rolloff * 0.5 / max(up, down)  # cycles per upsampled sample
    h = 2 * cutoff * np.sinc(2 * cutoff * k) * np.kaiser(len(k), beta)
    return h * (up / h.sum())


class Resampler:
    """Convert s16le mono PCM from `rate_in` to `rate_out`, chunk by chunk."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        if rate_in <= 0 or rate_out <= 0:
            raise ValueError(f"sample rates must be positive, got {rate_in} -> {rate_out}")
        self.rate_in, self.rate_out = rate_in, rate_out
        g = math.gcd(rate_in, rate_out)
        self.up, self.down = rate_out // g, rate_in // g
        self.identity = self.up == self.down
        h = design_filter(self.up, self.down)
        self._delay = (len(h) - 1) // 2  # in upsampled samples
        self._k = -(-len(h) // self.up)  # taps per polyphase branch
        padded = np.zeros(self._k * self.up)
        padded[: len(h)] = h
        # Row p holds h[p], h[p+L], ... reversed, to dot with ascending input windows.
        self._phases = padded.reshape(self._k, self.up).T[:, ::-1].copy()
        # Input history starts with k-1 zeros standing in for "before the signal".
        self._buf = np.zeros(self._k - 1)
        self._base = -(self._k - 1)  # absolute input index of _buf[0]
        self._next = 0               # next output sample index
        self._seen = 0               # input samples received
        self._odd = b""              # a trailing half sample from the last chunk
        self._flushed = False

    def process(self, pcm: bytes) -> bytes:
        """Resample one chunk; returns the output samples that are now complete."""
        if self._flushed:
            raise RuntimeError("resampler already flushed")
        data = self._odd + pcm
        usable = len(data) - len(data) % 2
        self._odd = data[usable:]
        if self.identity:
            return data[:usable]
        samples = np.frombuffer(data[:usable], dtype="<i2").astype(np.float64)
        self._seen += len(samples)
        out = [self._run(samples[i:i + BLOCK]) for i in range(0, len(samples), BLOCK)]
        return b"".join(out)

    def flush(self) -> bytes:
        """Emit the tail (the filter's look-ahead) at the end of the signal."""
        if self._flushed:
            return b""
        self._flushed = True
        if self.identity:
            return b""
        total = -(-self._seen * self.up // self.down)  # ceil(n * L / M)
        if self._next >= total:
            return b""
        newest_needed = ((total - 1) * self.down + self._delay) // self.up
        return self._run(np.zeros(max(0, newest_needed - self._seen + 1)), limit=total)

    def _run(self, samples: np.ndarray, limit: int | None = None) -> bytes:
        buf = np.concatenate([self._buf, samples])
        last = self._base + len(buf) - 1  # newest absolute input index held
        # Output n needs input index (n*M + delay) // L; take every n whose input is here.
        end = ((last + 1) * self.up - 1 - self._delay) // self.down + 1
        if limit is not None:
            end = min(end, limit)
        n = np.arange(self._next, max(end, self._next), dtype=np.int64)
        if len(n):
            t = n * self.down + self._delay
            idx, phase = t // self.up, t % self.up
            windows = sliding_window_view(buf, self._k)[idx - (self._k - 1) - self._base]
            y = np.einsum("ij,ij->i", windows, self._phases[phase])
            self._next = int(n[-1]) + 1
            out = np.clip(np.rint(y), -32768, 32767).astype("<i2").tobytes()
        else:
            out = b""
        # Keep the k-1 samples before the next output's newest input.
        keep_from = (self._next * self.down + self._delay) // self.up - (self._k - 1)
        drop = max(0, min(keep_from - self._base, len(buf)))
        self._buf, self._base = buf[drop:], self._base + drop
        return out


def resample(pcm: bytes, rate_in: int, rate_out: int) -> bytes:
    """Resample a whole signal in one go."""
    r = Resampler(rate_in, rate_out)
    return r.process(pcm) + r.flush()
