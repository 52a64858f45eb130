"""`hotline call NUMBER`: a test call into the running Asterisk, narrated line by line."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from ivr.asterisk import embedded
from ivr.calltest import CallRequest, place_call
from ivr.commands._common import add_config_arg, load_or_exit


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "call", help="place a test call and print what the caller hears and where the call goes",
        description="Place a test call into the running Asterisk (AMI Originate of Local/NUMBER@hotline-inbound) "
                    "and print each step as it happens. Exit 0 if the call reached a destination, 1 if not, "
                    "2 on bad input, 3 if AMI is unreachable.")
    parser.add_argument("number", metavar="NUMBER", help="the number to call, e.g. 12312")
    parser.add_argument("--from", dest="caller", default=CallRequest.caller, metavar="CALLER",
                        help="the caller's number (shown masked; default %(default)s)")
    parser.add_argument("--say", type=Path, metavar="WAV", help="audio the caller speaks once connected (any rate)")
    parser.add_argument("--dtmf", default="", metavar="KEYS", help="keys the caller presses after 1 s (e.g. 1)")
    parser.add_argument("--hold", type=_seconds, default=CallRequest.hold, metavar="SECONDS",
                        help="how long the caller stays on the line (default %(default)s)")
    add_config_arg(parser)
    parser.set_defaults(func=_call)


def _seconds(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 3600:
        raise argparse.ArgumentTypeError(f"seconds from 1 to 3600: {text!r}")
    return int(text)


def _call(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    if not args.verbose:
        for name in ("ivr.ami", "panoramisk"):  # the narration is the output; -v shows the AMI chatter
            logging.getLogger(name).setLevel(logging.ERROR)
    sounds = embedded.center(config).sounds if config.asterisk.embedded else None
    request = CallRequest(args.number, args.caller, args.say, args.dtmf, args.hold)

    def out(line: str) -> None:
        print(line, flush=True)

    def err(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    return asyncio.run(place_call(config, request, ami_secret=embedded.ami_secret(config), sounds=sounds,
                                  out=out, err=err))
