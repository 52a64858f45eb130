#!/usr/bin/env bash
# Set everything up and run the product: the embedded Asterisk (12345 center
# and a sub-center) plus the hotline server, SQLite by default. Ctrl-C stops all.
#   Usage: scripts/run.sh [-c config.yaml]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/hotline up "$@"
