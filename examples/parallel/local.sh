#!/bin/bash
# A MaskLens folder evaluation in N shards run by GNU parallel on this machine,
# JOBS at a time, then merged into results.json in the current folder.
#   examples/parallel/local.sh /data/preds /data/labels 8 4
# Exit status: the merge's (0 every case evaluated; 1 some case failed, the
# report still written, or a shard missing).
# No `set -e`: parallel exits with the number of failed jobs (a shard holding a
# failed case exits 1), and the merge must run all the same.
set -uo pipefail
if [ $# -lt 2 ]; then
    echo "usage: local.sh PRED_DIR TARGET_DIR [N [JOBS]]" >&2
    exit 2
fi
pred=$1 target=$2 shards=${3:-8} jobs=${4:-${3:-8}}
cli=${MASKLENS_CLI:-masklens-cli}
mkdir -p shards
# -q: the arguments reach masklens-cli as they are (paths with spaces too).
parallel -q --jobs "$jobs" "$cli" evaluate-folder "$pred" "$target" --threads 2 --quiet \
    --shard "{}/$shards" -o "shards/{}.json" ::: $(seq 1 "$shards")
echo "parallel: exit status $? (the number of shards that exited non-zero)" >&2
files=()
for k in $(seq 1 "$shards"); do
    files+=("shards/$k.json")
done
"$cli" merge "${files[@]}" -o results.json
