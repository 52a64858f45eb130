"""Supervision plugin: listen/whisper/barge (ChanSpy), the wallboard, KPIs and /metrics (docs/supervision.md)."""
