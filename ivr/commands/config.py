"""`hotline config check [-c FILE]`: validate config.yaml and list every problem with its line."""
from __future__ import annotations

import argparse
import sys
from collections import Counter

from ivr.config.loader import ConfigError, default_config_path, load_config
from ivr.config.model import Config, Mode

MODE_WORDS = {Mode.full_merge: "full merge", Mode.dual_number: "dual number", Mode.sub_center: "sub-center"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="check config.yaml")
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION")
    check = actions.add_parser("check", help="validate config.yaml; print every problem as FILE:LINE: field: reason")
    check.add_argument("-c", "--config", help="config file (default: $HOTLINE_CONFIG or ./config.yaml)")
    check.set_defaults(func=run_check)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def run_check(args: argparse.Namespace) -> int:
    path = args.config or str(default_config_path())
    try:
        config = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = len(exc.problems)
        print(f"{path}: {count} problem{'s' if count != 1 else ''}", file=sys.stderr)
        return 2
    print(f"{path}: OK — {summary(config)}")
    return 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(config: Config) -> str:
    """'17 lines (9 full merge, 6 dual number, 2 sub-center), 3 queues, 2 sub-centers'."""
    modes = Counter(line.mode for line in config.lines)
    parts = ", ".join(f"{modes[m]} {word}" for m, word in MODE_WORDS.items() if modes[m])
    lines = _plural(len(config.lines), "line") + (f" ({parts})" if parts else "")
    out = f"{lines}, {_plural(len(config.queues), 'queue')}, {_plural(len(config.sub_centers), 'sub-center')}"
    fast = [_plural(len(config.enterprise.numbers), "enterprise number")] if config.enterprise.numbers else []
    fast += [_plural(len(config.languages), "language queue")] if config.languages else []
    return out + (f"; fast tracks: {', '.join(fast)}" if fast else "")  # 一企来, 外籍人士服务热线
