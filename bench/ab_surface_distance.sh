#!/usr/bin/env bash
# A/B of two builds of the surface-distance benchmark on one core: runs the
# binaries alternately (so that they share the machine's conditions), REPS
# times each, and prints every benchmark's smallest wall time per binary.
#
#   bench/ab_surface_distance.sh FILTER OLD_BINARY NEW_BINARY [MORE...]
#   REPS=5 bench/ab_surface_distance.sh 'BM_SurfaceDistance3D/(256|512)/0/' \
#       /tmp/old/bench/masklens_bench_surface_distance \
#       build/dist2/bench/masklens_bench_surface_distance
#
# One thread (MASKLENS_BENCH_THREADS=1, taskset -c 1): steadier than two on a
# shared VM; the figures are CPU cost, not the multi-threaded wall time.
set -euo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,12p' "$0"
  exit 2
fi
filter="$1"
shift
reps="${REPS:-3}"
for ((i = 0; i < reps; ++i)); do
  for binary in "$@"; do
    MASKLENS_BENCH_THREADS=1 taskset -c 1 "$binary" --benchmark_filter="$filter" \
      --benchmark_min_time=0.01 --benchmark_format=csv 2>/dev/null |
      awk -F, -v tag="$binary" '/^"BM/ { gsub(/"/, "", $1); print tag, $1, $3 }'
  done
done | awk '{ key = $2 " " $1; if (!(key in best) || $3 < best[key]) best[key] = $3 }
            END { for (key in best) { split(key, part, " "); printf "%-50s %10.1f ms  %s\n", part[1], best[key], part[2] } }' | sort
