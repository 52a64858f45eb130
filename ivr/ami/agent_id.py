"""Agent ids from Asterisk channel names and queue member interfaces.

An agent is named by the device part of its interface, the way queues list
members in config (`PJSIP/agent1001`). The same id comes out of every form
Asterisk shows for that agent:

    PJSIP/agent1001                       -> agent1001   (queue member interface)
    PJSIP/agent1001-0000001a              -> agent1001   (a channel: "-" + 8 hex digits)
    Local/agent1001@hotline-agents/n      -> agent1001   (Local member interface)
    Local/agent1001@hotline-agents-00000003;1 -> agent1001 (either half of a Local channel)

Whether an id is really an agent (and not a trunk such as
`PJSIP/subcenter-tax-00000004`) is decided by the caller against the known
agents (queue members in config, web token owners, queue events).
"""
from __future__ import annotations

import re

# Channel-name suffix Asterisk appends: -<8 hex digits>, plus ;1/;2 on Local halves.
_CHANNEL_SUFFIX = re.compile(r"-[0-9a-f]{8}(;[12])?$")
_VALID = re.compile(r"^[A-Za-z0-9_.+-]{1,64}$")


def agent_id(name: str | None) -> str | None:
    """The agent id in a channel name or member interface, or None if there is none."""
    if not name or "/" not in name:
        return None
    tech, _, rest = str(name).strip().partition("/")
    if not tech or not rest:
        return None
    rest = _CHANNEL_SUFFIX.sub("", rest)
    rest = rest.split("/", 1)[0]          # Local/...@ctx/n options, PJSIP/x/sip:uri
    if tech.lower() == "local":
        rest = rest.split("@", 1)[0]      # Local/<exten>@<context>
    elif "@" in rest:                     # PJSIP/<number>@<trunk>: a dialed number, not a device
        return None
    return rest if _VALID.match(rest) else None
