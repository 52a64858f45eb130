"""Prompts: an operator's mp3 becomes what Asterisk plays (8 and 16 kHz mono,
trimmed, normalised); missing recordings get a marked placeholder; rebuilds
touch only what changed; manifest mistakes are named. Output goes to tmp."""
from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import yaml

from ivr.config.model import Config
from ivr.prompts import MANIFEST
from ivr.prompts.build import TARGET_DBFS, PromptError, build
from ivr.prompts.manifest import ManifestError, prompts_for
from tests.support.plan_fixtures import config_data, make_config

HOTLINE = Path(sys.executable).parent / "hotline"
RECORDED = "merged-hrss-12333"  # the prompt the operator recorded
TONE_S = 2.0                    # the sound in the recording, between its silences
LEAD_S, TRAIL_S = 1.5, 2.0


def city(**line_changes) -> dict:
    """Two full-merge lines (so prompts welcome, menu, not-in-service and two merged-*)."""
    data = config_data()
    data["lines"] = [ln for ln in data["lines"] if ln["id"] in ("scm-12315", "hrss-12333")]
    data["sub_centers"] = []
    for line in data["lines"]:
        line.update(line_changes.get(line["id"], {}))
    return data


def config(data: dict) -> Config:
    return make_config(data)


def sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True, timeout=60)


def operator_mp3(path: Path, freq: int = 440, amplitude: float = 0.05) -> Path:
    """44.1 kHz stereo mp3: a faint noise floor, a tone at about -29 dBFS, a longer noise tail."""
    parts = []
    for name, seconds, synth in (("lead", LEAD_S, ["whitenoise", "vol", "0.0005"]),
                                 ("tone", TONE_S, ["sine", str(freq), "vol", str(amplitude)]),
                                 ("trail", TRAIL_S, ["whitenoise", "vol", "0.0005"])):
        part = path.with_name(f"{path.stem}-{name}.wav")
        sox("-n", "-r", "44100", "-c", "2", "-b", "16", str(part), "synth", str(seconds), *synth)
        parts.append(str(part))
    joined = path.with_suffix(".joined.wav")
    sox(*parts, str(joined))
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(joined), "-ar", "44100", "-ac", "2",
                    "-b:a", "128k", str(path)], check=True, timeout=60)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels",
                            "-of", "json", str(path)], check=True, capture_output=True, text=True).stdout
    assert json.loads(probe)["streams"][0] == {"codec_name": "mp3", "sample_rate": "44100", "channels": 2}
    return path


def read(path: Path) -> tuple[np.ndarray, int, int, int]:
    """Samples as floats in -1..1, rate, channels, sample width."""
    with wave.open(str(path), "rb") as w:
        raw = w.readframes(w.getnframes())
        return (np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768, w.getframerate(),
                w.getnchannels(), w.getsampwidth())


def dbfs(x: np.ndarray) -> float:
    # pydub's dBFS: RMS relative to a full-scale square wave
    return 20 * np.log10(np.sqrt(np.mean(x ** 2)))


def edges(x: np.ndarray, rate: int) -> tuple[float, float]:
    """Seconds of near-silence before the first and after the last loud sample."""
    loud = np.flatnonzero(np.abs(x) > 0.1 * np.abs(x).max())
    return loud[0] / rate, (len(x) - 1 - loud[-1]) / rate


@pytest.fixture
def operator(tmp_path) -> Path:
    """An operator's folder: manifest.yaml pointing to src/hrss.mp3."""
    (tmp_path / "src").mkdir()
    operator_mp3(tmp_path / "src" / "hrss.mp3")
    write_manifest(tmp_path, [{"id": RECORDED, "file": "src/hrss.mp3"}])
    return tmp_path


def write_manifest(folder: Path, items: list[dict]) -> Path:
    path = folder / "manifest.yaml"
    path.write_text(yaml.safe_dump({"prompts": items}, allow_unicode=True), encoding="utf-8")
    return path


def outputs(out: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(out.glob("*.wav*"))}


def test_operator_mp3_becomes_8k_and_16k_mono_trimmed_and_normalised(operator):
    out = operator / "build"
    result = build(prompts_for(config(city()), operator / "manifest.yaml"), out)
    assert RECORDED in result.built and RECORDED not in result.placeholders
    source, _, _, _ = read(operator / "src" / "hrss-tone.wav")
    assert dbfs(source) < TARGET_DBFS - 8, "the test recording should start well below the target level"
    for ext, rate in ((".wav", 8000), (".wav16", 16000)):
        samples, got_rate, channels, width = read(out / f"{RECORDED}{ext}")
        assert (got_rate, channels, width) == (rate, 1, 2), ext
        duration = len(samples) / rate
        lead, trail = edges(samples, rate)
        # 1.5 s before and 2 s after the sound are gone; a little air (tens of ms) is kept
        assert lead < 0.12 and trail < 0.12, (ext, lead, trail)
        assert TONE_S - 0.05 < duration < TONE_S + 0.25, (ext, duration)
        assert abs(dbfs(samples) - TARGET_DBFS) < 1.0, (ext, dbfs(samples))
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert index[RECORDED]["placeholder"] is False
    assert index[RECORDED]["source"] == str((operator / "src" / "hrss.mp3").resolve())


def test_prompt_without_recording_gets_a_marked_placeholder_from_its_text(operator):
    out = operator / "build"
    cfg = config(city())
    result = build(prompts_for(cfg, operator / "manifest.yaml"), out)
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    placeholders = {"welcome", "menu", "not-in-service", "merged-scm-12315"}
    assert set(result.placeholders) == placeholders
    assert {pid for pid, entry in index.items() if entry["placeholder"]} == placeholders
    assert index["welcome"]["text"] == cfg.hotline.entry.prompt
    for pid in placeholders:
        samples, rate, channels, _ = read(out / f"{pid}.wav")
        assert (rate, channels) == (8000, 1)
        assert len(samples) / rate > 1.0, f"{pid}: too short for its text"
        assert abs(dbfs(samples) - TARGET_DBFS) < 1.5, pid


def test_rebuilds_only_what_changed_and_deletes_removed_prompts(operator):
    out = operator / "build"
    manifest = operator / "manifest.yaml"
    first = build(prompts_for(config(city()), manifest), out)
    assert len(first.built) == 5
    before = outputs(out)

    again = build(prompts_for(config(city()), manifest), out)
    assert again.built == [] and len(again.unchanged) == 5
    assert outputs(out) == before, "a build with nothing changed rewrote files"

    changed = build(prompts_for(config(city(**{"scm-12315": {"prompt": "此号码已并入12345，请拨打12345"}})), manifest), out)
    assert changed.built == ["merged-scm-12315"]
    after = outputs(out)
    for name, (data, mtime) in before.items():
        if name.startswith("merged-scm-12315."):
            assert after[name][0] != data, f"{name}: new text but the same audio"
        else:
            assert after[name] == (data, mtime), f"{name} was rebuilt although its input did not change"

    operator_mp3(operator / "src" / "hrss.mp3", freq=660)  # the operator re-records one prompt
    rerecorded = build(prompts_for(config(city(**{"scm-12315": {"prompt": "此号码已并入12345，请拨打12345"}})), manifest), out)
    assert rerecorded.built == [RECORDED]

    data = city()
    data["lines"] = [ln for ln in data["lines"] if ln["id"] != "scm-12315"]
    removed = build(prompts_for(config(data), manifest), out)
    assert removed.built == []
    assert not list(out.glob("merged-scm-12315.*"))
    assert "merged-scm-12315" not in json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert (out / f"{RECORDED}.wav").exists()


def test_manifest_pointing_to_a_missing_file_names_file_and_prompt(operator):
    manifest = write_manifest(operator, [{"id": RECORDED, "file": "src/no-such.mp3"}])
    with pytest.raises(ManifestError) as err:
        prompts_for(config(city()), manifest)
    assert str(manifest) in str(err.value) and RECORDED in str(err.value) and "no-such.mp3" in str(err.value)


def test_manifest_with_an_unknown_field_names_file_and_prompt(operator):
    manifest = write_manifest(operator, [{"id": RECORDED, "file": "src/hrss.mp3", "volume": 3}])
    with pytest.raises(ManifestError) as err:
        prompts_for(config(city()), manifest)
    assert str(manifest) in str(err.value) and RECORDED in str(err.value) and "volume" in str(err.value)


@pytest.mark.parametrize("content", ["not audio", "silent"])
def test_unusable_recording_is_a_prompt_error_naming_the_prompt(operator, content):
    bad = operator / "src" / "bad.wav"
    if content == "silent":
        sox("-n", "-r", "8000", "-c", "1", "-b", "16", str(bad), "trim", "0", "2")
    else:
        bad.write_bytes(b"this is not a recording" * 100)
    manifest = write_manifest(operator, [{"id": RECORDED, "file": "src/bad.wav"}])
    with pytest.raises(PromptError, match=RECORDED if content == "not audio" else "silent"):
        build(prompts_for(config(city()), manifest), operator / "build")


def test_cli_prompts_build_and_install(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(city(), allow_unicode=True), encoding="utf-8")
    out, sounds = tmp_path / "build", tmp_path / "sounds"
    n = len(prompts_for(config(city()), MANIFEST))  # the shipped manifest may add recordings by id
    cmd = [str(HOTLINE), "prompts", "build", "-c", str(cfg), "--out", str(out), "--install", str(sounds)]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert f"{n} built, 0 unchanged" in first.stdout
    assert f"installed {2 * n} files into {sounds}" in first.stdout
    assert {p.name for p in sounds.iterdir()} == {p.name for p in out.glob("*.wav*")}
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0 and f"0 built, {n} unchanged" in second.stdout, second.stdout + second.stderr

    cfg.write_text("hotline: {name: x}\nlines: [{id: bad}]\n", encoding="utf-8")
    bad = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and f"{cfg}:" in bad.stderr and "Traceback" not in bad.stderr

