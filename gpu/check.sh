#!/usr/bin/env bash
# Device check for the CUDA path, on a machine with an NVIDIA GPU:
# configures a Release build with MASKLENS_CUDA=ON, builds the GPU tests and
# the GPU benchmark, runs the tests (the parity tests of the statistics and of
# the surface distances must run, not skip), then the benchmark (statistics
# kernels, and CPU vs GPU surface distances on 256^3 and 512^3 sphere pairs),
# whose table is printed last. Exits non-zero when
# anything fails. Takes a few minutes (most of it compiling the kernels).
#
#   gpu/check.sh            # full run (512^3 and 64 x 128^3)
#   gpu/check.sh --quick    # smaller benchmark inputs
#
# Environment: BUILD_DIR (default build/gpu-check), JOBS (default nproc),
# CUDA_ARCHS (default: the project's "80-real 90"; e.g. "native").
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build/gpu-check}"
jobs="${JOBS:-$(nproc)}"
quick=""
if [[ "${1:-}" == "--quick" ]]; then
    quick="--quick"
fi

fail() {
    echo "gpu/check.sh: $*" >&2
    exit 1
}

step() {
    echo
    echo "== $* ($(date +%H:%M:%S))"
}

command -v cmake > /dev/null || fail "cmake not found"
command -v ninja > /dev/null || fail "ninja not found"
nvcc="$(command -v nvcc || true)"
[[ -z "$nvcc" && -x /usr/local/cuda/bin/nvcc ]] && nvcc=/usr/local/cuda/bin/nvcc
[[ -n "$nvcc" ]] || fail "nvcc not found (install the CUDA toolkit or put nvcc on PATH)"
if ! command -v nvidia-smi > /dev/null || ! nvidia-smi -L > /dev/null 2>&1; then
    fail "no NVIDIA GPU visible (nvidia-smi -L failed); this check needs a GPU"
fi
gpu_name="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1)"
echo "GPU: $gpu_name; nvcc: $("$nvcc" --version | tail -n 1)"

start=$SECONDS
step "configure ($build)"
mkdir -p "$build"
cuda_args=(-DMASKLENS_CUDA=ON "-DCMAKE_CUDA_COMPILER=$nvcc")
if [[ -n "${CUDA_ARCHS:-}" ]]; then
    cuda_args+=("-DCMAKE_CUDA_ARCHITECTURES=$CUDA_ARCHS")
fi
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DMASKLENS_BUILD_GUI=OFF -DMASKLENS_BUILD_BENCHMARKS=OFF -DMASKLENS_BUILD_TESTS=ON \
    "-DMASKLENS_TEST_AREAS=gpu" "${cuda_args[@]}" > "$build/configure.log" 2>&1 ||
    { tail -n 30 "$build/configure.log" >&2; fail "configure failed (log: $build/configure.log)"; }
grep -q "CUDA path enabled" "$build/configure.log" || fail "the CUDA path was not enabled (see $build/configure.log)"

step "build (-j$jobs)"
cmake --build "$build" -j "$jobs" --target test_gpu_host_logic test_gpu_parity test_gpu_distance \
    masklens_bench_gpu ||
    fail "build failed"

step "tests"
ctest --test-dir "$build" -L gpu --output-on-failure || fail "GPU tests failed"
parity_log="$build/test_gpu_parity.log"
"$build/tests/gpu/test_gpu_parity" > "$parity_log" 2>&1 || { cat "$parity_log" >&2; fail "test_gpu_parity failed"; }
if grep -q "^SKIP" "$parity_log"; then
    grep "^SKIP" "$parity_log" >&2
    fail "the parity tests skipped although a GPU is present"
fi
tests_line="$(grep '^Totals' "$parity_log")"
echo "test_gpu_parity: $tests_line"
distance_log="$build/test_gpu_distance.log"
"$build/tests/gpu/test_gpu_distance" > "$distance_log" 2>&1 ||
    { cat "$distance_log" >&2; fail "test_gpu_distance failed"; }
# (Its stub-only test skips in every CUDA build; the device tests must not.)
if grep -q "^SKIP.*no CUDA device" "$distance_log"; then
    grep "^SKIP.*no CUDA device" "$distance_log" >&2
    fail "the surface-distance parity tests skipped although a GPU is present"
fi
grep -q "not bit-identical" "$distance_log" && grep "not bit-identical" "$distance_log" | head -n 5
distance_line="$(grep '^Totals' "$distance_log")"
echo "test_gpu_distance: $distance_line"

step "benchmark"
bench_log="$build/bench_gpu.log"
"$build/gpu/masklens_bench_gpu" $quick | tee "$bench_log" || fail "benchmark failed (or CPU and GPU disagree)"

echo
echo "checked in $((SECONDS - start)) s on $gpu_name; parity $tests_line; distances $distance_line"
echo
# The table, last.
sed -n '/^| measure/,$p' "$bench_log"
