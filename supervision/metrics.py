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
from supervision import board


class LiveCollector(Collector):
    def __init__(self, services: Any, wallboard: Any) -> None:
        self.services, self.wallboard = services, wallboard

    def collect(self):
        tracker = getattr(self.services, "tracker", None)
        calls = GaugeMetricFamily("hotline_calls_in_progress", "Calls the server follows now")
        calls.add_metric([], len(getattr(tracker, "calls", None) or {}))
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
        store = getattr(self.services, "store", None)
        health = store.queue_health() if store is not None and hasattr(store, "queue_health") else None
        depth = GaugeMetricFamily("hotline_db_queue_depth", "Database writes waiting in the store's queue")
        depth.add_metric([], (health or {}).get("queued", 0))
        yield depth


def register(services: Any, wallboard: Any) -> LiveCollector:
    collector = LiveCollector(services, wallboard)
    metrics.REGISTRY.register(collector)
    return collector


def unregister(collector: LiveCollector) -> None:
    metrics.REGISTRY.unregister(collector)


def exposition() -> tuple[bytes, str]:
    """(body, content type) in the Prometheus text format."""
    return generate_latest(metrics.REGISTRY), CONTENT_TYPE_LATEST
