#!/usr/bin/env bash
# The agent console's browser libraries (JsSIP for the WebRTC seat), from the npm
# registry at the versions pinned in ivr/web/console/vendor/package-lock.json:
# `npm ci` refuses any tarball whose sha512 differs from the lock file. The bundle
# (dist/jssip.min.js) is built locally with the pinned esbuild and served by the
# web app itself (no CDN). Idempotent: skipped when the bundle matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/../ivr/web/console/vendor"
if ! command -v npm >/dev/null; then
  echo "[setup] apt-get install nodejs npm (JsSIP for the browser seat is built with npm)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
stamp="dist/.lock-$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -f "$stamp" ] || [ ! -s dist/jssip.min.js ]; then
  echo "[setup] npm ci (JsSIP for the browser seat)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  npm run --silent build
  rm -f dist/.lock-*
  touch "$stamp"
fi
