"""`hotline serve` (the server alone) and `hotline up` (embedded Asterisk + server)."""
from __future__ import annotations

import asyncio
import os
import sys

from ivr.asterisk.instance import InstanceError
from ivr.asterisk.rootfs import RootError
from ivr.commands._common import add_config_arg, load_or_exit
from ivr.commands.asterisk import start_instances
from ivr.prompts import BUILD_DIR, build_for
from ivr.prompts.build import PromptError, install
from ivr.seats import demo as seats_demo
from ivr.server import serve_forever


def _serve(args) -> int:
    config = load_or_exit(args.config)
    asyncio.run(serve_forever(config))
    return 0


def _up(args) -> int:
    config = load_or_exit(args.config)
    if not config.asterisk.embedded:
        print("hotline up: asterisk.embedded is false; use `hotline serve` next to the city's Asterisk",
              file=sys.stderr)
        return 2
    try:
        build_for(config, lambda m: print(m, file=sys.stderr))
        config, demo_seat, seat_auth = seats_demo.prepare(config, os.environ)  # seats hook: demo browser seat
        config, supervisor_token = seats_demo.with_supervisor(config)  # the demo's 班长
        instances = start_instances(config)
        if demo_seat:
            seats_demo.install(instances[0], seat_auth)  # seats hook
    except (PromptError, InstanceError, RootError, seats_demo.DemoError) as exc:
        print(f"hotline up: {exc}", file=sys.stderr)
        return 1
    center = instances[0]
    install(BUILD_DIR, center.sounds)
    for inst in instances:
        print(f"{inst.name}: SIP 127.0.0.1:{inst.sip_port}  AMI 127.0.0.1:{inst.ami_port}", file=sys.stderr)
    print(f"web console: http://{config.web.host}:{config.web.port}/console/  —  Ctrl-C stops everything",
          file=sys.stderr)
    if demo_seat:  # seats hook: the demo agent's ready-to-open console (token stored 0600)
        print(f"浏览器座席 browser seat {demo_seat.agent}: {seats_demo.console_url(config, demo_seat)}", file=sys.stderr)
    base = f"http://{config.web.host}:{config.web.port}"
    print(f"班长 supervisor {seats_demo.SUPERVISOR}: 大屏 wallboard {base}/wallboard/?token={supervisor_token}  "
          f"console {base}/console/?token={supervisor_token}", file=sys.stderr)
    try:
        asyncio.run(serve_forever(config))
    finally:
        for inst in instances:
            inst.stop()
    return 0


def register(sub) -> None:
    s = sub.add_parser("serve", help="run the server (FastAGI + AMI + web) next to an Asterisk")
    add_config_arg(s)
    s.set_defaults(func=_serve)
    u = sub.add_parser("up", help="start the embedded Asterisk (center + sub-center) and the server")
    add_config_arg(u)
    u.set_defaults(func=_up)
