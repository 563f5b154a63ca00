#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang-14, ASan + UBSan) and runs
# each for a bounded time, then prints executions and findings per target.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS: run time per target (default 60). TARGET: npy npz nii nii_gz nrrd
# nhdr mha mhd png tiff shard_json results_json (default: all). Environment:
#   BUILD_DIR  build folder (default build/fuzz)
#   JOBS       parallel compile jobs (default 1)
#   RSS_MB     libFuzzer -rss_limit_mb, also its malloc limit (default 2048)
#   TIMEOUT_S  libFuzzer -timeout per input (default 10)
#   MAX_LEN    libFuzzer -max_len (default 65536)
#   SKIP_BUILD set to 1 to run already-built targets
# Findings (crash-*, timeout-*, oom-*, leak-* inputs) are written to
# $BUILD_DIR/findings/<target>/; the growing corpus to $BUILD_DIR/corpus/<target>/
# (seeded from tests/fuzz/corpus/<target>/, which is not modified).
# Exit status: 0 when no target found anything, 1 otherwise.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(npy npz nii nii_gz nrrd nhdr mha mhd png tiff shard_json results_json)
fi
build=${BUILD_DIR:-$root/build/fuzz}
jobs=${JOBS:-1}
rss=${RSS_MB:-2048}
timeout_s=${TIMEOUT_S:-10}
max_len=${MAX_LEN:-65536}

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  if ! command -v clang++-14 >/dev/null; then
    echo "fuzz.sh: clang++-14 not found; apt-get install -y clang-14 libclang-rt-14-dev" >&2
    exit 2
  fi
  CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMASKLENS_BUILD_GUI=OFF -DMASKLENS_BUILD_BENCHMARKS=OFF \
    -DMASKLENS_CUDA=OFF -DMASKLENS_ARCH= "-DMASKLENS_TEST_AREAS=fuzz" -DMASKLENS_FUZZ=ON >/dev/null
  ninja -C "$build" -j "$jobs" "${targets[@]/#/fuzz_}"
fi

# Inputs are written to a file per execution: keep that in memory.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
  export TMPDIR=/dev/shm
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

summary=()
status=0
for target in "${targets[@]}"; do
  exe="$build/tests/fuzz/fuzz_$target"
  corpus="$build/corpus/$target"
  findings="$build/findings/$target"
  log="$build/logs/$target.log"
  mkdir -p "$corpus" "$findings" "$(dirname "$log")"
  seeds="$root/tests/fuzz/corpus/$target"
  echo "== fuzz_$target for ${seconds}s (log: $log)"
  stamp="$build/logs/$target.start"
  touch "$stamp"
  set +e
  "$exe" -max_total_time="$seconds" -rss_limit_mb="$rss" -timeout="$timeout_s" -max_len="$max_len" \
    -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  if [ -z "$execs" ]; then
    # A run stopped by a finding prints no final stats; take the last status line.
    execs=$(grep -o '^#[0-9]*' "$log" | tr -d '#' | tail -1)
  fi
  found=$(find "$findings" -type f -newer "$stamp" \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
  units=$(find "$corpus" -type f | wc -l)
  summary+=("$(printf '%-8s execs %-10s corpus %-6s findings %-3s exit %s' "$target" "${execs:-?}" "$units" "$found" "$rc")")
  if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
    status=1
  fi
done

echo
echo "== summary (${seconds}s per target; findings in $build/findings/<target>/)"
printf '%s\n' "${summary[@]}"
exit $status
