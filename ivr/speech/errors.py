"""Errors of the speech feature.

Speech is an add-on: when it cannot run, only speech is off. The serve process
catches `SpeechUnavailable` at start, logs its message once, and keeps routing
calls.
"""
from __future__ import annotations


class SpeechUnavailable(Exception):
    """The recognizer cannot run: no model, a broken model, or no vosk library."""


class BadAudio(Exception):
    """A recording the batch transcriber cannot read (not a PCM WAV, damaged)."""
