"""`hotline asr check [MODEL]` and `hotline asr transcribe [FILES...]` (语音识别 / 质检).

`check` loads a Vosk model and reports what an operator needs before turning
speech on: where the model is, its sample rate, how long loading takes, how
much memory it holds and how fast it decodes a phone-quality sample (8 kHz,
through the same path as a live call). `transcribe` decodes recorded calls for
quality inspection; each result is stored next to the recording
(`<file>.asr.json`) and, when the call is in the database, as a `transcript`
event of that call.
"""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.commands._common import add_config_arg
from ivr.config.loader import ConfigError, default_config_path, load_config
from ivr.config.model import Config
from ivr.paths import STATE
from ivr.speech import model as vmodel
from ivr.speech.batch import Transcript, open_wav, sidecar_path, to_mono, write_sidecar
from ivr.speech.engine import SpeechEngine
from ivr.speech.errors import BadAudio, SpeechUnavailable
from ivr.speech.progress import Progress
from ivr.speech.resample import resample

log = logging.getLogger("ivr.speech")

SAMPLE_TEXT = {
    "cmn": "您好，我家楼下的自来水管破了，水一直往外流，请尽快派人来处理。",
    "ko": "안녕하세요. 수도관이 터져서 물이 새고 있습니다. 빨리 와 주세요.",
}
LINKEDID_RE = re.compile(r"^(\d{9,}\.\d+)(?=$|[-_.])")  # Asterisk linkedid at the start of a file name


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("asr", help="speech recognition: check a model, transcribe recordings")
    sub = parser.add_subparsers(dest="asr_command", metavar="SUBCOMMAND", required=True)

    check = sub.add_parser("check", help="load a model; print its rate, load time, memory and real-time factor")
    check.add_argument("model", nargs="?", metavar="MODEL", help="model directory (default: config speech.model)")
    check.add_argument("--sample", type=Path, metavar="WAV", help="16-bit WAV to decode (default: espeak-ng speech)")
    check.add_argument("--voice", help="espeak-ng voice for the sample (default: from the model's name, else cmn)")
    add_config_arg(check)
    check.set_defaults(func=_check)

    tr = sub.add_parser("transcribe", help="transcribe recorded calls for quality inspection (质检)")
    tr.add_argument("files", nargs="*", type=Path, metavar="FILE", help="recordings (16-bit WAV)")
    tr.add_argument("--dir", type=Path, action="append", metavar="DIR",
                    help="folder of recordings named <linkedid>...wav (default: the speech spool and "
                         f"{STATE / 'recordings'})")
    tr.add_argument("--since", type=dt.date.fromisoformat, metavar="DATE", help="only recordings from DATE on")
    tr.add_argument("--call", metavar="ID", help="only the recordings of call ID (its linkedid)")
    tr.add_argument("--model", help="model directory (default: config speech.model)")
    tr.add_argument("--workers", type=int, default=None, help="decoding threads (default: config, 0 = cores)")
    tr.add_argument("--force", action="store_true", help="transcribe again files that already have a result")
    add_config_arg(tr)
    tr.set_defaults(func=_transcribe)


def _config(path: str | None) -> Config | None:
    """The config if there is one (these commands also work on a bare model)."""
    path = path or default_config_path()
    if not Path(path).exists():
        return None
    try:
        return load_config(path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2)


def _model_path(arg: str | None, config: Config | None) -> str:
    if arg:
        return arg
    if config is not None and config.speech.model:
        return config.speech.model
    packaged = vmodel.default_model()
    if packaged is None:
        raise SpeechUnavailable("no model given: pass MODEL or set speech.model in config.yaml")
    print(f"note: no model configured, using the test model {packaged}", file=sys.stderr)
    return str(packaged)


# ---- check ----

def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def _voice(model_dir: Path) -> str:
    name = model_dir.name.lower() if model_dir.name != "model" else model_dir.parent.name.lower()
    return "ko" if re.search(r"(^|[-_])ko([-_]|$)", name) else "cmn"


def _sample(args: argparse.Namespace, model_dir: Path, folder: Path) -> tuple[bytes, str]:
    """The sample as 8 kHz s16le (the phone path) and a description of it."""
    if args.sample:
        with open_wav(args.sample) as w:
            frames, rate, channels = w.readframes(w.getnframes()), w.getframerate(), w.getnchannels()
        return resample(to_mono(frames, channels), rate, 8000), f"{args.sample} ({rate} Hz)"
    if shutil.which("espeak-ng") is None:
        raise BadAudio("no --sample given and espeak-ng is not installed (apt-get install espeak-ng)")
    voice = args.voice or _voice(model_dir)
    text = SAMPLE_TEXT.get(voice.split("+")[0], SAMPLE_TEXT["cmn"])
    out = folder / "sample.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(out), text], check=True, capture_output=True)
    with open_wav(out) as w:
        frames, rate = w.readframes(w.getnframes()), w.getframerate()
    return resample(frames, rate, 8000), f"espeak-ng -v {voice} ({rate} Hz)"


def _check(args: argparse.Namespace) -> int:
    config = _config(args.config)
    try:
        info = vmodel.inspect(_model_path(args.model, config))
        before, started = _rss_bytes(), time.monotonic()
        vmodel.load(info.path)
        load_s, grown = time.monotonic() - started, _rss_bytes() - before
        with tempfile.TemporaryDirectory() as tmp:
            audio, described = _sample(args, info.path, Path(tmp))
    except (SpeechUnavailable, BadAudio) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"error: espeak-ng failed: {exc.stderr.decode(errors='replace').strip()}", file=sys.stderr)
        return 2
    engine = SpeechEngine(info.path, workers=1, backlog_seconds=3600).start()
    try:
        started = time.monotonic()
        stream = engine.open_stream("asr-check")
        for i in range(0, len(audio), 320):  # 20 ms frames, as a call delivers them
            stream.feed(audio[i:i + 320])
        text = stream.close()
        decode_s = time.monotonic() - started
    finally:
        engine.shutdown()
    seconds = len(audio) / 16000
    print(f"model:        {info.path}")
    print(f"sample rate:  {info.sample_rate} Hz")
    print(f"load time:    {load_s:.2f} s")
    print(f"memory:       {grown / 2**20:+.0f} MB RSS")
    print(f"sample:       {described}, {seconds:.1f} s at 8 kHz")
    print(f"decode time:  {decode_s:.2f} s (1 stream, 1 worker)")
    print(f"real-time factor: {decode_s / seconds:.3f}")
    print(f"text:         {text}")
    return 0


# ---- transcribe ----

def _default_dirs(config: Config | None) -> list[Path]:
    dirs = [Path(config.speech.spool_dir)] if config is not None and config.speech.spool_dir else []
    return [d for d in dirs + [STATE / "recordings"] if d.is_dir()]


def _select(args: argparse.Namespace, config: Config | None) -> list[Path]:
    files = list(args.files)
    dirs = args.dir or ([] if files else _default_dirs(config))
    for d in dirs:
        if not d.is_dir():
            raise BadAudio(f"{d}: no such folder")
        files += sorted(p for p in d.rglob("*.wav") if p.is_file())
    tz = ZoneInfo(config.hotline.timezone) if config is not None else None  # None: this machine's zone
    chosen = []
    for path in dict.fromkeys(files):  # unique, in order
        if not path.is_file():
            raise BadAudio(f"{path}: no such file")
        if args.call and _linkedid(path) != args.call and not path.name.startswith(args.call):
            continue
        if args.since and dt.datetime.fromtimestamp(path.stat().st_mtime, tz).date() < args.since:
            continue
        if not args.force and sidecar_path(path).exists():
            continue
        chosen.append(path)
    return chosen


def _linkedid(path: Path) -> str | None:
    m = LINKEDID_RE.match(path.name)
    return m.group(1) if m else None


def _duration(path: Path) -> float:
    try:
        with open_wav(path) as w:
            return w.getnframes() / w.getframerate()
    except BadAudio:
        return 0.0


def _transcribe(args: argparse.Namespace) -> int:
    config = _config(args.config)
    try:
        files = _select(args, config)
        model = _model_path(args.model, config)
        workers = args.workers if args.workers is not None else (config.speech.workers if config else 0)
        engine = SpeechEngine(model, workers=workers).start()
    except (SpeechUnavailable, BadAudio) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not files:
        print("nothing to transcribe (already done files need --force)", file=sys.stderr)
        engine.shutdown()
        return 0
    saver = _CallStore(config)
    progress = Progress({p: _duration(p) for p in files})
    jobs = {p: engine.transcribe_file(p, progress=lambda f, p=p: progress.update(p, f)) for p in files}
    failed = 0
    try:
        for path, job in jobs.items():
            try:
                result = job.result()
            except BadAudio as exc:
                failed += 1
                progress.message(f"error: {exc}")
                progress.update(path, 1.0)
                continue
            write_sidecar(result)
            stored = saver.save(path, result)
            progress.update(path, 1.0)
            progress.message(f"{path}: {len(result.utterances)} utterances, {len(result.text)} characters"
                             + (", stored with the call" if stored else ""))
    finally:
        progress.close()
        engine.shutdown()
        saver.close()
    print(f"{len(files) - failed} transcribed, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


class _CallStore:
    """Adds a transcript to its call record when the database knows the call."""

    def __init__(self, config: Config | None) -> None:
        self.store = None
        if config is None:
            return
        try:
            from sqlalchemy.engine import make_url

            from ivr.storage.store import Store
            url = make_url(config.database.url)
            if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
                return  # no call records on this machine: do not create an empty database
            self.store = Store.open(config.database.url)
        except Exception as exc:  # no database here: the sidecar files still hold the results
            log.warning("database unavailable (%s): results only next to the recordings", exc)

    def save(self, path: Path, result: Transcript) -> bool:
        linkedid = _linkedid(path)
        if self.store is None or linkedid is None:
            return False
        from ivr.storage import repo

        def save(session) -> bool:
            repo.log_recording_read(session, getpass.getuser(), path.name, "hotline asr", "transcribe")
            if repo.get_call(session, linkedid) is None:
                return False
            data = {"recording": str(path), "text": result.text, "model": result.model,
                    "duration": result.duration, "utterances": [vars(u) for u in result.utterances]}
            repo.record_event(session, linkedid, dt.datetime.now(dt.timezone.utc), "transcript", data)
            return True
        try:
            return self.store.run_sync(save)
        except Exception as exc:
            log.warning("could not store the transcript of %s with its call: %s", path.name, exc)
            return False

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
