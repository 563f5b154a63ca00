#!/usr/bin/env bash
# File to number: masklens-cli evaluate end to end and the readers alone, two
# builds alternately (so that they share the machine's conditions), against
# what they cannot beat: `cat` of the files (.npy) and libdeflate inflating
# them from memory into memory, one after the other (.nii.gz; the median of 3
# in one process, reported by masklens_bench_read). Builds nothing.
#
#   bench/read_speed.sh OLD_CLI NEW_CLI
#   REPS=7 SIZES_NII="256 384" SIZES_NPY="512" INPUTS=/tmp/read_inputs bench/read_speed.sh \
#       /tmp/speed-base/build/app/cli/masklens-cli build/speed/app/cli/masklens-cli
#
# Inputs (bench/make_read_inputs.py, numpy; kept in $INPUTS between runs):
# float32 prediction + uint8 target, n^3, .nii.gz (gzip level 6) and .npy.
# The readers alone need masklens_bench_read (bench/read_bench.cpp) in each
# CLI's build folder (BUILD/bench/ next to BUILD/app/cli/); rows without it
# are skipped. Prints medians of REPS runs (default 5), new/old ratios and the
# load average before and after; RECORDS=FILE keeps every run's time (µs).
set -euo pipefail
if [ $# -ne 2 ]; then
  sed -n '2,16p' "$0"
  exit 2
fi
old_cli=$(realpath "$1")
new_cli=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
reps="${REPS:-5}"
inputs="${INPUTS:-/tmp/read_inputs}"
sizes_nii="${SIZES_NII:-256 384}"
sizes_npy="${SIZES_NPY:-512}"
python=/usr/bin/python3
reader_of() { local b; b=$(dirname "$(dirname "$(dirname "$1")")")/bench/masklens_bench_read; [ -x "$b" ] && echo "$b" || true; }
old_read=$(reader_of "$old_cli")
new_read=$(reader_of "$new_cli")
ref_read="${new_read:-$old_read}"

for n in $sizes_nii; do "$python" "$here/make_read_inputs.py" "$inputs" nii "$n"; done
for n in $sizes_npy; do "$python" "$here/make_read_inputs.py" "$inputs" npy "$n"; done

records=$(mktemp)
trap 'rm -f "$records" "$records.medians"' EXIT
# time_it LABEL COMMAND...: appends "LABEL SECONDS" (wall clock, output dropped).
time_it() {
  local label=$1
  shift
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
  end=$(date +%s%N)
  echo "$label $(( (end - start) / 1000 ))" >>"$records"
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "old: $old_cli"
echo "new: $new_cli"
# warm the page cache
cat "$inputs"/* >/dev/null

for ((i = 0; i < reps; ++i)); do
  for n in $sizes_nii; do
    p="$inputs/pred_$n.nii.gz" t="$inputs/target_$n.nii.gz"
    for which in old new; do
      cli=$([ $which = old ] && echo "$old_cli" || echo "$new_cli")
      time_it "nii$n.cli.dice.$which" "$cli" evaluate "$p" "$t" --metrics dice --device cpu
      time_it "nii$n.cli.default.$which" "$cli" evaluate "$p" "$t" --device cpu
      reader=$([ $which = old ] && echo "$old_read" || echo "$new_read")
      if [ -n "$reader" ]; then time_it "nii$n.read.$which" "$reader" pair 1 "$p" "$t"; fi
    done
    if [ -n "$ref_read" ]; then
      time_it "nii$n.ref.zlib" "$ref_read" zlib 1 "$p" "$t"
      # the inflate alone (files already in memory), median of 3 in one process
      "$ref_read" libdeflate 3 "$p" "$t" |
        awk -v label="nii$n.ref.libdeflate" '/ median / { printf "%s %d\n", label, $3 * 1e6 }' >>"$records"
    fi
  done
  for n in $sizes_npy; do
    p="$inputs/pred_$n.npy" t="$inputs/target_$n.npy"
    for which in old new; do
      cli=$([ $which = old ] && echo "$old_cli" || echo "$new_cli")
      time_it "npy$n.cli.dice.$which" "$cli" evaluate "$p" "$t" --metrics dice --device cpu
      time_it "npy$n.cli.default.$which" "$cli" evaluate "$p" "$t" --device cpu
      reader=$([ $which = old ] && echo "$old_read" || echo "$new_read")
      if [ -n "$reader" ]; then time_it "npy$n.read.$which" "$reader" pair 1 "$p" "$t"; fi
    done
    time_it "npy$n.ref.cat" cat "$p" "$t"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${RECORDS:-}" ]; then cp "$records" "$RECORDS"; fi

# Medians (per row), then ratios: new/old and old, new against the reference.
awk '{ v[$1] = v[$1] " " $2 }
  END {
    for (key in v) {
      k = split(v[key], a, " ")
      for (i = 1; i <= k; ++i) for (j = i + 1; j <= k; ++j) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      printf "%s %.6f\n", key, a[int((k + 1) / 2)] / 1e6
    }
  }' "$records" | sort >"$records.medians"
awk -v reps="$reps" '
  { m[$1] = $2; order[++n] = $1 }
  END {
    printf "\n%-24s %8s %8s %8s   %-24s %8s %8s\n", "row (median of " reps ")", "old s", "new s", "new/old", "reference s", "old/ref", "new/ref"
    for (i = 1; i <= n; ++i) {
      key = order[i]
      if (key !~ /\.old$/) continue
      base = substr(key, 1, length(key) - 4)
      split(base, part, ".")
      ref = part[1] ".ref." (part[1] ~ /^nii/ ? "libdeflate" : "cat")
      newv = m[base ".new"]
      line = sprintf("%-24s %8.3f %8.3f %8.2f", base, m[key], newv, newv / m[key])
      if (ref in m) line = line sprintf("   %-24s %8.2f %8.2f", ref " " sprintf("%.3f", m[ref]), m[key] / m[ref], newv / m[ref])
      print line
    }
    for (i = 1; i <= n; ++i) if (order[i] ~ /\.ref\./) printf "%-24s %8.3f\n", order[i], m[order[i]]
  }' "$records.medians"
