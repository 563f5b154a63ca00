#!/usr/bin/env bash
# Sets up (packages + build) and runs the whole test suite. GUI and rendering
# tests need an X server: one is started with Xvfb when DISPLAY is unset.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
preset="${MASKLENS_PRESET:-release}"

xvfb_pid=""
if [ -z "${DISPLAY:-}" ]; then
  display=":$((90 + RANDOM % 100))"
  Xvfb "$display" -screen 0 1600x1200x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb_pid=$!
  export DISPLAY="$display"
  trap '[ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true' EXIT
  sleep 1
fi
export QT_QPA_PLATFORM=xcb
ctest --preset "$preset" -j 2 "$@"
