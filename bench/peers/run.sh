#!/usr/bin/env bash
# Installs ShareDB 7 and its WebSocket adapter into bench/peers/node_modules
# (from package-lock.json) and runs the comparison; arguments are passed to
# compare.mjs, e.g.  bench/peers/run.sh --docs 100 --editors 4 --rate 0 --duration 20
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error >&2
exec node compare.mjs "$@"
