"""Helpers shared by `hotline` subcommands (not itself a command)."""
from __future__ import annotations

import argparse
import sys

from ivr.config.loader import ConfigError, default_config_path, load_config
from ivr.config.model import Config


def add_config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", default=None, help="config file (default: $HOTLINE_CONFIG or ./config.yaml)")


def load_or_exit(path: str | None) -> Config:
    """Load the config or print every problem (FILE:LINE: field: reason) and exit 2."""
    try:
        return load_config(path or default_config_path())
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2)


