"""Who may talk to the FastAGI and live-transcription ports (`fastagi.allow`).

Both ports act on calls in progress (set a call's route, push text and drafts
to an agent, trigger an emergency transfer), and neither protocol has any
authentication: the peer's address is the only thing checked, on accept,
before a byte is read. Default: loopback only (Asterisk on the same host).
"""
from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable

log = logging.getLogger("ivr.agi.peers")

DEFAULT_ALLOW = ("127.0.0.0/8", "::1")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_network(text: str) -> Network:
    """One allow-list entry (an address or a CIDR); ValueError with the reason."""
    try:
        return ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError as exc:
        raise ValueError(f"not an IP address or network: {text!r}") from exc


class PeerFilter:
    """Address allow-list, with counters of who was refused."""

    def __init__(self, allow: Iterable[str] = DEFAULT_ALLOW) -> None:
        self.networks = tuple(parse_network(a) for a in allow)
        self.refused = 0

    def allows(self, peer: object) -> bool:
        """`peer` is a transport's peername (tuple) or an address string; unknown means refused."""
        host = peer[0] if isinstance(peer, tuple) and peer else peer
        try:
            addr = ipaddress.ip_address(str(host).split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        return any(addr in net for net in self.networks)

    def check(self, peer: object, port_name: str) -> bool:
        """allows(), and a refused peer is counted and logged (address masked)."""
        if self.allows(peer):
            return True
        self.refused += 1
        log.warning("%s: connection from %s refused (not in fastagi.allow)", port_name, mask_peer(peer))
        return False


def mask_peer(peer: object) -> str:
    """An address for the log with its host part hidden: 192.0.2.x, 2001:db8:…:x."""
    host = str(peer[0] if isinstance(peer, tuple) and peer else peer)
    if "." in host:
        return ".".join(host.split(".")[:3] + ["x"])
    if ":" in host:
        return ":".join(host.split(":")[:3] + ["…", "x"])
    return "?"
