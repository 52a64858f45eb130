#!/usr/bin/env bash
# Install everything hotline-ivr needs on a fresh Debian 12 machine, as root.
# Idempotent: a second run takes seconds.   Usage: scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# Debian packages: debootstrap builds the Asterisk root; espeak-ng speaks
# placeholder prompts; ffmpeg lets pydub read mp3 recordings.
APT_RUN="debootstrap espeak-ng ffmpeg sox ca-certificates"
# Tests: real SIP clients, a real PostgreSQL, a real browser.
APT_TEST="sip-tester baresip-core postgresql chromium chromium-driver fonts-noto-cjk"
pkgs="$APT_RUN"
[ $want_test = 1 ] && pkgs="$pkgs $APT_TEST"

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "[setup] apt-get install$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $missing >/dev/null
fi

PY=${PYTHON:-python3}
"$PY" -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
  || { echo "[setup] Python 3.11+ is required (set PYTHON=...)"; exit 1; }
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  "$PY" -m venv .venv
fi
extras="postgres"
[ $want_test = 1 ] && extras="test,postgres"
stamp=".venv/.hotline-deps-$(sha256sum pyproject.toml | cut -c1-16)-$extras"
if [ ! -f "$stamp" ]; then
  echo "[setup] pip install -e .[$extras]"
  .venv/bin/pip install -q --disable-pip-version-check -e ".[$extras]" 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import ivr, panoramisk, aiohttp, sqlalchemy, prometheus_client, openpyxl" # fail loudly if pip failed
  [ $want_test = 1 ] && .venv/bin/python -c "import xdist, selenium, hypothesis"
  rm -f .venv/.hotline-deps-*
  touch "$stamp"
fi

# The embedded Asterisk 22 (Debian sid root); cached after the first build.
.venv/bin/hotline asterisk install

# seats hook: JsSIP for the browser seat (pinned, integrity-checked npm ci)
scripts/setup_vendor.sh
