#!/usr/bin/env bash
# Runs masklens_bench_engine and prints, per cube size, each benchmark's wall
# time, voxels/s and its ratio to the memcpy of the same bytes measured in the
# same run (goal for BM_Statistics_Default: <= 1.5x BM_Memcpy).
#
#   bench/run_engine_bench.sh [BINARY] [extra Google Benchmark flags...]
#   MASKLENS_BENCH_REPETITIONS=5 bench/run_engine_bench.sh   (default 3; medians are used)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
binary=${1:-$here/../build/bench/bench/masklens_bench_engine}
shift $(($# > 0 ? 1 : 0))
repetitions=${MASKLENS_BENCH_REPETITIONS:-3}
json=$(mktemp --suffix=.json)
trap 'rm -f "$json"' EXIT

"$binary" --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true \
    --benchmark_out="$json" --benchmark_out_format=json "$@"

/usr/bin/python3 - "$json" <<'PY'
import json
import sys

with open(sys.argv[1]) as f:
    report = json.load(f)

# Median aggregates when repeated, plain iterations otherwise.
times, rates = {}, {}
for run in report["benchmarks"]:
    if run.get("run_type") == "aggregate" and run.get("aggregate_name") != "median":
        continue
    name = run["run_name"]  # e.g. BM_Statistics_Default/256/real_time
    parts = name.split("/")
    key = (parts[0], int(parts[1]))
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[run["time_unit"]]
    times[key] = run["real_time"] * scale
    rates[key] = run.get("voxels_per_s", 0.0)

sizes = sorted({size for _, size in times})
names = sorted({name for name, _ in times}, key=lambda n: (not n.startswith("BM_Memcpy"), n))
print()
print(f"ratios (median wall time / memcpy of the same bytes, same run; {report['context'].get('num_cpus')} CPUs)")
for size in sizes:
    base = times.get(("BM_Memcpy", size))
    base_parallel = times.get(("BM_MemcpyParallel", size))
    print(f"  {size}^3 = {size ** 3} voxels")
    for name in names:
        if (name, size) not in times:
            continue
        t = times[(name, size)]
        line = f"    {name:32s} {t * 1e3:10.2f} ms  {rates[(name, size)] / 1e6:9.1f} Mvoxel/s"
        if base:
            line += f"  x{t / base:7.2f} memcpy"
        if base_parallel:
            line += f"  x{t / base_parallel:7.2f} parallel memcpy"
        print(line)
    pass_time = times.get(("BM_Statistics_Default", size))
    if base and pass_time:
        ratio = pass_time / base
        verdict = "meets" if ratio <= 1.5 else "does NOT meet"
        print(f"    default metric set: ratio = {ratio:.2f} ({verdict} the <= 1.5x goal)")
PY
