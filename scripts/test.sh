#!/usr/bin/env bash
# Run the whole test suite from nothing (installs what it needs first), as root.
#   Usage: scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
exec .venv/bin/python -m pytest -ra "$@"
