#!/usr/bin/env bash
# evaluate-folder throughput, two builds alternately (so that they share the
# machine's conditions): CASES .nii.gz cases of N^3 (default 20 of 256^3,
# bench/make_folder_inputs.py, kept in $INPUTS), default metrics, CPU, one job
# unless JOBS says otherwise. Builds nothing.
#
#   bench/folder_speed.sh OLD_CLI NEW_CLI
#   REPS=3 CASES=20 N=256 INPUTS=/tmp/folder_inputs bench/folder_speed.sh \
#       /work/main/build/release/app/cli/masklens-cli build/release/app/cli/masklens-cli
#
# Prints each run's wall and CPU seconds, the medians, cases/s and new/old,
# the load average before and after, and checks that both builds wrote the same report.
set -euo pipefail
if [ $# -ne 2 ]; then
  sed -n '2,12p' "$0"
  exit 2
fi
old_cli=$(realpath "$1")
new_cli=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
reps="${REPS:-3}"
cases="${CASES:-20}"
n="${N:-256}"
jobs="${JOBS:-1}"
inputs="${INPUTS:-/tmp/folder_inputs}"
/usr/bin/python3 "$here/make_folder_inputs.py" "$inputs" "$cases" "$n"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cat "$inputs"/pred/* "$inputs"/target/* >/dev/null # warm the page cache
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "old: $old_cli"
echo "new: $new_cli"
declare -A times cpu
for ((i = 0; i < reps; ++i)); do
  for which in old new; do
    cli=$([ $which = old ] && echo "$old_cli" || echo "$new_cli")
    /usr/bin/time -o "$out/time" -f "%e %U %S" "$cli" evaluate-folder "$inputs/pred" "$inputs/target" \
      --device cpu --jobs "$jobs" --quiet -o "$out/$which.json"
    read -r s user sys <"$out/time"
    times[$which]="${times[$which]:-} $s"
    cpu[$which]="${cpu[$which]:-} $(awk -v u="$user" -v k="$sys" 'BEGIN { printf "%.2f", u + k }')"
    echo "run $i $which $s s wall, $user s user + $sys s sys"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
# The reports agree except for the version / build lines.
if diff <(grep -v '"version"\|"build"\|"simd"\|"cuda"' "$out/old.json") \
        <(grep -v '"version"\|"build"\|"simd"\|"cuda"' "$out/new.json") >/dev/null; then
  echo "reports: identical (version lines aside)"
else
  echo "reports: DIFFER"
fi
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
old_m=$(echo "${times[old]}" | median)
new_m=$(echo "${times[new]}" | median)
old_c=$(echo "${cpu[old]}" | median)
new_c=$(echo "${cpu[new]}" | median)
awk -v o="$old_m" -v n="$new_m" -v c="$cases" -v r="$reps" -v oc="$old_c" -v nc="$new_c" 'BEGIN {
  printf "median of %d: old %.3f s (%.2f cases/s), new %.3f s (%.2f cases/s), throughput new/old %.2fx\n",
    r, o, c / o, n, c / n, o / n
  printf "CPU time (user + sys), median: old %.2f s (%.0f%% of wall), new %.2f s (%.0f%% of wall)\n",
    oc, 100 * oc / o, nc, 100 * nc / n }'
