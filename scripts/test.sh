#!/usr/bin/env bash
# Sets up (packages + release build) and runs the whole test suite; then
# builds the engine, readers and CLI with AddressSanitizer + UBSan (preset
# asan) and runs their tests again, failing on any sanitizer report.
# GUI and rendering tests need an X server: Xvfb is started when DISPLAY is
# unset. The Python package's tests (scripts/python_test.sh: wheel, pytest)
# run after ctest. MASKLENS_SKIP_ASAN=1 skips the sanitizer run;
# MASKLENS_SKIP_PACKAGE=1 skips building and checking the Debian package;
# MASKLENS_SKIP_PYTHON=1 skips the Python tests.
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

if [ -z "${MASKLENS_SKIP_PYTHON:-}" ] && [ "$#" -eq 0 ]; then
  scripts/python_test.sh
fi

if [ -z "${MASKLENS_SKIP_PACKAGE:-}" ] && [ "$#" -eq 0 ]; then
  echo "== Debian package (scripts/package.sh --check)"
  scripts/package.sh --check
fi

if [ -z "${MASKLENS_SKIP_ASAN:-}" ] && [ "$preset" != "asan" ]; then
  echo "== sanitizer run (preset asan)"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$(nproc)"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  ctest --preset asan -j 2 "$@"
fi
