"""Counters and histograms for operations (Prometheus), shared by the core and every plugin.

A leaf module (imports nothing from the project) so anything may count into it:
  ROUTED              the FastAGI route answered a call, by HOTLINE_ACTION (ivr/agi/worker.py)
  FAILSAFE            a call took the dialplan's fail-safe (HOTLINE_FALLBACK, counted by supervision/)
  AGI_WORKER_RESTARTS the FastAGI worker process died and was restarted (ivr/agi/worker.py)
  POP_LATENCY         seconds from an agent answering to the screen-pop being published (the tracker)
  RECORDINGS_FAILED   a call recording could not be started, written or stored (recording plugin)
The gauges that are read at scrape time (calls, waiting callers, agents by state,
database queue) are collected by supervision/metrics.py from the live services.
`/metrics` (supervision/http.py) serves REGISTRY in the Prometheus text format.
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

ROUTED = Counter("hotline_calls_routed", "Calls the FastAGI route handler answered, by action",
                 ["action"], registry=REGISTRY)
FAILSAFE = Counter("hotline_calls_failsafe", "Calls sent to the dialplan's fail-safe (FastAGI unreachable or empty)",
                   registry=REGISTRY)
AGI_WORKER_RESTARTS = Counter("hotline_fastagi_worker_restarts", "FastAGI worker process restarts", registry=REGISTRY)
POP_LATENCY = Histogram("hotline_pop_latency_seconds", "Agent answer to screen-pop published",
                        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0), registry=REGISTRY)
RECORDINGS_FAILED = Counter("hotline_recordings_failed", "Call recordings that failed (start, write or store)",
                            ["reason"], registry=REGISTRY)
