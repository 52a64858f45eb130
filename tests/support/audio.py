"""Audio checks for tests: does a recording contain a known sound?"""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2, f"{path}: expected 16-bit audio"
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
        if w.getnchannels() > 1:
            data = data.reshape(-1, w.getnchannels()).mean(axis=1)
        return data, w.getframerate()


def write_wav(path: Path, data: bytes, rate: int) -> Path:
    """16-bit mono PCM `data` as a WAV file at `rate`."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data)
    return path


def best_match(recording: np.ndarray, needle: np.ndarray) -> float:
    """Highest normalised cross-correlation of `needle` anywhere in `recording` (0..1)."""
    if len(recording) < len(needle) or not needle.any():
        return 0.0
    n = len(recording) + len(needle)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(recording, size) * np.conj(np.fft.rfft(needle, size)), size)[: len(recording) - len(needle) + 1]
    # energy of each recording window, for normalisation
    csum = np.concatenate(([0.0], np.cumsum(recording ** 2)))
    window = csum[len(needle):] - csum[: len(recording) - len(needle) + 1]
    norm = np.sqrt(np.maximum(window, 1e-9) * float(np.sum(needle ** 2)))
    return float(np.max(np.abs(corr) / norm))


def contains(recording_path: Path, sound_path: Path, seconds: float = 1.5, skip: float = 0.2) -> float:
    """Score how well `seconds` of `sound_path` (after `skip` s) is found in the recording."""
    rec, rate = read_wav(recording_path)
    snd, srate = read_wav(sound_path)
    assert rate == srate, f"rates differ: {rate} vs {srate}"
    start = int(skip * rate)
    return best_match(rec, snd[start: start + int(seconds * rate)])


def read_channels(path: Path) -> tuple[list[np.ndarray], int]:
    """Each channel of a 16-bit WAV as its own array (a stereo recording: [left, right])."""
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2, f"{path}: expected 16-bit audio"
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
        data = data.reshape(-1, w.getnchannels())
        return [data[:, i] for i in range(w.getnchannels())], w.getframerate()


def goertzel_share(samples: np.ndarray, rate: int, hz: float, block: int = 160) -> float:
    """Share of 20 ms blocks (at 8 kHz) with audible energy in which a tone at `hz` dominates (Goertzel).

    Counted over all blocks, silent ones included: a channel that never
    carries the tone scores 0, one that carries it half the time about 0.5.
    """
    n = len(samples) // block
    if n == 0:
        return 0.0
    x = samples[: n * block].reshape(n, block)
    k = np.arange(block)
    # Goertzel power at `hz` equals |sum x[k] e^{-i w k}|^2: one matrix product for every block
    power = np.abs(x @ np.exp(-2j * np.pi * hz / rate * k)) ** 2
    energy = (x ** 2).sum(axis=1)
    hits = (energy > block * 100 ** 2) & (2 * power / (block * np.maximum(energy, 1e-9)) > 0.5)
    return float(hits.sum() / n)
