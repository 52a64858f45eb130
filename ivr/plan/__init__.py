"""The merged number plan: pure call decisions (no I/O) and the official list import.

    plan = Plan(load_config("config.yaml"))              # once per config load
    decision = plan.decide("12333", datetime.now(timezone.utc))
    agi_vars = decision.channel_vars()                   # HOTLINE_* for the dialplan
"""
from ivr.plan.decide import Plan, PlanError
from ivr.plan.decision import ACTIONS, MODES, PHASES, Decision

__all__ = ["ACTIONS", "MODES", "PHASES", "Decision", "Plan", "PlanError"]
