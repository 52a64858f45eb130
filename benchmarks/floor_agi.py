"""The cheapest FastAGI responder there can be: the routing benchmark's floor.

    .venv/bin/python benchmarks/floor_agi.py CONFIG   (started by benchmarks/routing.py)

Not a benchmark of its own. It answers `AGI(agi://…/route,<dialed>,…)` the way
the route handler does (the same MSet of the same HOTLINE_* variables, then
the end of the stream), but from answers computed once per number, in a bare
epoll loop, with no tracker, no ticket ids, no logging. Whatever Asterisk does
with such a responder is what no FastAGI server could improve on: routing.py
runs it beside our server, in the same run and the same Asterisk, so the
share of the gap that is Asterisk's own AGI cost shows as the floor's ratio.

Prints its port, then serves until its stdin closes.
"""
from __future__ import annotations

import datetime as dt
import select
import socket
import sys

from ivr.agi.handlers.route import route_mset
from ivr.agi.protocol import quote
from ivr.config.loader import load_config
from ivr.plan.decide import Plan

TICKET = "T00000000-0000"  # as the static dialplan's: no database here
MAX_HEADER = 64 * 1024


def answers(config_path: str):
    plan = Plan(load_config(config_path, env={}))
    now = dt.datetime.now(dt.timezone.utc)
    cache: dict[bytes, bytes] = {}

    def answer(dialed: bytes) -> bytes:
        if dialed not in cache:
            variables = plan.decide(dialed.decode(), now).channel_vars()
            variables["HOTLINE_TICKET"] = TICKET
            cache[dialed] = "".join(f"EXEC MSet {quote(args)}\n" for args in route_mset(variables)).encode()
        return cache[dialed]

    return answer


def dialed_of(header: bytes) -> bytes:
    for line in header.split(b"\n"):
        if line.startswith(b"agi_arg_1: "):
            return line[11:].strip()
    return b""


def main() -> int:
    answer = answers(sys.argv[1])
    listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
    listener.setblocking(False)
    print(listener.getsockname()[1], flush=True)
    ep = select.epoll()
    ep.register(listener.fileno(), select.EPOLLIN)
    ep.register(sys.stdin.fileno(), select.EPOLLIN)
    conns: dict[int, tuple[socket.socket, bytearray]] = {}

    def done(fd: int) -> None:
        sock, _ = conns.pop(fd)
        ep.unregister(fd)
        sock.close()

    while True:
        for fd, _ in ep.poll():
            if fd == sys.stdin.fileno():
                return 0
            if fd == listener.fileno():
                try:
                    sock, _ = listener.accept()
                except BlockingIOError:
                    continue
                sock.setblocking(False)
                conns[sock.fileno()] = (sock, bytearray())
                ep.register(sock.fileno(), select.EPOLLIN)
                continue
            sock, buf = conns[fd]
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            buf += data
            if data and b"\n\n" not in buf and len(buf) < MAX_HEADER:
                continue
            if data and b"\n\n" in buf:
                try:
                    sock.send(answer(dialed_of(bytes(buf))))
                    sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            done(fd)


if __name__ == "__main__":
    sys.exit(main())
