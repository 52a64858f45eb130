#!/usr/bin/env bash
# Run the whole test suite from nothing (installs what it needs first), as root.
#   Usage: scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
# Two workers (pytest-xdist), a test file per worker at a time: most tests wait on
# real calls, so two run side by side on two cores; each worker has its own Asterisk
# instances on free ports. TEST_WORKERS=0 runs everything in one process.
exec .venv/bin/python -m pytest -ra -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
