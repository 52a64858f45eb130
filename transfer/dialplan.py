"""Asterisk config for agents, expert seats and transfers (filled in by the transfer feature)."""
from __future__ import annotations

from ivr.config.model import Config


def render(config: Config) -> dict[str, str]:
    """Generated files for the center, by name (extensions_*, queues_*, pjsip_*)."""
    return {}
