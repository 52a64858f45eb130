"""The 8 kHz -> model-rate resampler, measured on signals (not on ASR text)."""
from __future__ import annotations

import audioop
import subprocess
import warnings

import numpy as np
import pytest

from ivr.speech.resample import Resampler, resample
from tests.support.speech_audio import PHONE_RATE, pcm, speak

AMPLITUDE = 10000


def tone(freq: float, rate: int, n: int) -> np.ndarray:
    return AMPLITUDE * np.sin(2 * np.pi * freq * np.arange(n) / rate)


def as_pcm(x: np.ndarray) -> bytes:
    return np.round(x).astype("<i2").tobytes()


def samples(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").astype(np.float64)


def snr_db(signal: np.ndarray, reference: np.ndarray) -> float:
    mid = slice(len(reference) // 4, 3 * len(reference) // 4)  # away from the edges
    err = signal[mid] - reference[mid]
    return 10 * np.log10(np.sum(reference[mid] ** 2) / max(np.sum(err ** 2), 1e-9))


def band_energy_db(x: np.ndarray, rate: int, above_hz: float) -> float:
    """Energy above `above_hz` relative to the whole signal (windowed spectrum)."""
    mid = x[len(x) // 4: 3 * len(x) // 4]
    power = np.abs(np.fft.rfft(mid * np.hanning(len(mid)))) ** 2
    freqs = np.fft.rfftfreq(len(mid), 1 / rate)
    return 10 * np.log10(max(power[freqs > above_hz].sum(), 1e-12) / power.sum())


@pytest.mark.parametrize("freq", [300, 1000, 2000, 3000, 3300])
def test_upsampling_the_phone_band_is_clean(freq):
    x = tone(freq, PHONE_RATE, 2 * PHONE_RATE)
    y = samples(resample(as_pcm(x), PHONE_RATE, 16000))
    assert len(y) == 2 * len(x)
    assert snr_db(y, tone(freq, 16000, len(y))) > 75            # aligned, right gain, no distortion
    assert band_energy_db(y, 16000, 4100) < -85                 # no image of the tone above 4 kHz

    # For comparison, audioop.ratecv's interpolation leaves the image in (why we filter).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        linear = samples(audioop.ratecv(as_pcm(x), 2, 1, PHONE_RATE, 16000, None)[0])
    assert band_energy_db(linear, 16000, 4100) > band_energy_db(y, 16000, 4100) + 30


@pytest.mark.parametrize("rate_in,freq", [(16000, 5000), (22050, 6000), (48000, 9000)])
def test_downsampling_does_not_alias(rate_in, freq):
    # A tone above 4 kHz cannot exist at 8 kHz: it must vanish, not fold back into the voice band.
    y = samples(resample(as_pcm(tone(freq, rate_in, rate_in)), rate_in, PHONE_RATE))
    residue = np.mean(y[len(y) // 4: -len(y) // 4] ** 2)
    assert 10 * np.log10(max(residue, 1e-12) / (AMPLITUDE ** 2 / 2)) < -70
    kept = samples(resample(as_pcm(tone(1000, rate_in, rate_in)), rate_in, PHONE_RATE))
    assert snr_db(kept, tone(1000, PHONE_RATE, len(kept))) > 75


@pytest.mark.parametrize("rate_in,rate_out", [(8000, 16000), (22050, 8000), (48000, 16000), (8000, 8000)])
def test_chunked_output_equals_one_shot(rate_in, rate_out):
    x = as_pcm(np.random.default_rng(7).normal(0, 3000, 3 * rate_in))
    whole = resample(x, rate_in, rate_out)
    r, parts, i = Resampler(rate_in, rate_out), [], 0
    for size in [1, 7, 320, 641, 4096, 33] * 400:  # odd byte counts split samples too
        if i >= len(x):
            break
        parts.append(r.process(x[i:i + size]))
        i += size
    parts.append(r.process(x[i:]))
    parts.append(r.flush())
    assert b"".join(parts) == whole
    assert len(whole) // 2 == -(-(len(x) // 2) * rate_out // rate_in)  # ceil(n * out / in) samples


def test_agrees_with_sox_on_real_speech(tmp_path):
    """Same 8 kHz speech, ours vs sox's own high-quality resampler: the same signal."""
    src = speak("안녕하세요. 수도관이 터져서 물이 새고 있습니다.", tmp_path / "s.wav")
    subprocess.run(["sox", str(src), "-r", "8000", "-b", "16", str(tmp_path / "s8.wav")], check=True)
    subprocess.run(["sox", str(tmp_path / "s8.wav"), "-D", "-r", "16000", str(tmp_path / "sox16.wav")],
                   check=True)
    ours = samples(resample(pcm(tmp_path / "s8.wav"), 8000, 16000))
    theirs = samples(pcm(tmp_path / "sox16.wav"))
    n = min(len(ours), len(theirs))
    # Differences live only at the band edge (sox keeps up to 3.8 kHz, we roll off from 3.3 kHz).
    assert snr_db(ours[:n], theirs[:n]) > 25
