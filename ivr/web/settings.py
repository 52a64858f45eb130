"""The websocket's limits (`WsSettings`): here, apart from ivr/web/ws.py, so that ivr/web/keys.py can type its key."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class WsSettings:
    heartbeat: float = 20.0        # seconds between pings when the peer is silent
    send_queue: int = 256          # events buffered per agent connection before dropping it
    supervisor_queue: int = 4096   # supervisors get every event: room for a publisher's burst
    resume_wait: float = 2.0       # how long to wait for a first "resume" message
    max_msg_size: int = 16 * 1024  # client messages are tiny: larger ones get an error, the socket stays
    max_frame: int = 1024 * 1024   # a frame above this is a protocol violation: aiohttp closes (1009)
    max_depth: int = 8             # nesting of a client message (ours are flat)
    max_per_agent: int = 8         # concurrent consoles per agent
