#!/bin/bash
# A MaskLens folder evaluation in N shards spread by GNU parallel over ssh to
# HOSTS (parallel's -S list: host1,host2, or 8/host1 for 8 jobs there; ':' is
# this machine), one shard per host at a time using all its cores, merged
# into results.json here. The hosts must see the folders, masklens-cli and the
# current folder at the same paths (a shared file system).
#   examples/parallel/multi_host.sh host1,host2 /data/preds /data/labels 16
# A remote command starts in $HOME with a bare PATH: hence absolute paths (for
# the folders and masklens-cli) and --wd . (the current folder, so that
# shards/ is written here and not in $HOME/shards).
# Exit status: the merge's (0 every case evaluated; 1 some case failed, the
# report still written, or a shard missing). No `set -e`: parallel exits with
# the number of failed jobs, and the merge must run all the same.
set -uo pipefail
if [ $# -lt 3 ]; then
    echo "usage: multi_host.sh HOSTS PRED_DIR TARGET_DIR [N]" >&2
    exit 2
fi
hosts=$1 shards=${4:-16}
pred=$(realpath "$2")
target=$(realpath "$3")
cli=$(command -v "${MASKLENS_CLI:-masklens-cli}") || {
    echo "masklens-cli not found: put it on PATH or set MASKLENS_CLI" >&2
    exit 2
}
cli=$(realpath "$cli")
mkdir -p shards
parallel -q -S "$hosts" --wd . --jobs 1 "$cli" evaluate-folder "$pred" "$target" --threads 0 --quiet \
    --shard "{}/$shards" -o "shards/{}.json" ::: $(seq 1 "$shards")
echo "parallel: exit status $? (the number of shards that exited non-zero)" >&2
files=()
for k in $(seq 1 "$shards"); do
    files+=("shards/$k.json")
done
"$cli" merge "${files[@]}" -o results.json
