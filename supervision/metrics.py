"""/metrics: the shared counters of ivr/metrics.py plus gauges read from the live services at scrape time.

Gauges: calls in progress (the tracker's live calls), callers waiting per queue
and agents per state (the wallboard's last QueueStatus), the database queue depth.
"""
from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ivr import metrics
from ivr.plugins import PluginServices
from supervision import board


class LiveCollector(Collector):
    def __init__(self, services: PluginServices, wallboard: Any) -> None:
        self.services, self.wallboard = services, wallboard

    def collect(self):
        tracker = self.services.tracker
        calls = GaugeMetricFamily("hotline_calls_in_progress", "Calls the server follows now")
        calls.add_metric([], len(tracker.calls) if tracker is not None else 0)
        yield calls
        snap = getattr(self.wallboard, "snapshot", None) or {}
        waiting = GaugeMetricFamily("hotline_callers_waiting", "Callers waiting in a queue now", labels=["queue"])
        longest = GaugeMetricFamily("hotline_longest_wait_seconds", "Longest wait in a queue now", labels=["queue"])
        for q in snap.get("queues", []):
            waiting.add_metric([q["id"]], q["waiting"])
            longest.add_metric([q["id"]], q["longest_wait_s"])
        yield waiting
        yield longest
        agents = GaugeMetricFamily("hotline_agents", "Agents by state", labels=["state"])
        counts = snap.get("agent_counts") or {}
        for state in board.LABELS:
            agents.add_metric([state], counts.get(state, 0))
        yield agents
        store = self.services.store
        health = store.queue_health() if store is not None else None
        depth = GaugeMetricFamily("hotline_db_queue_depth", "Database writes waiting in the store's queue")
        depth.add_metric([], (health or {}).get("queued", 0))
        yield depth


_live: list[LiveCollector] = []  # the one registered: /metrics reports the newest server of the process


def register(services: PluginServices, wallboard: Any) -> LiveCollector:
    """Read the live gauges from these services; replaces any server's collector left
    registered (a server that did not stop must not stop the next one from starting)."""
    while _live:
        unregister(_live[-1])
    collector = LiveCollector(services, wallboard)
    metrics.REGISTRY.register(collector)
    _live.append(collector)
    return collector


def unregister(collector: LiveCollector) -> None:
    if collector in _live:
        _live.remove(collector)
        metrics.REGISTRY.unregister(collector)


def exposition() -> tuple[bytes, str]:
    """(body, content type) in the Prometheus text format."""
    return generate_latest(metrics.REGISTRY), CONTENT_TYPE_LATEST
