#!/bin/bash
#SBATCH --job-name=masklens-merge
#SBATCH --output=logs/%x_%j.out
# Merges shards/1.json ... shards/N.json into results.json, in the folder the
# job was submitted from (the shards' folder: submit it from there).
# submit.sh submits it with --dependency=afterany:ARRAY_JOB so that it runs
# even when some tasks fail (a shard holding a failed case exits 1).
# Exit status: 0 every case evaluated; 1 some case failed (results.json is
# still written, with status "error" on those cases) or a shard is missing,
# unreadable or of another run (then nothing is written).
set -euo pipefail
if [ $# -ne 1 ]; then
    echo "usage: sbatch merge.sh N" >&2
    exit 2
fi
shards=$1
files=()
for k in $(seq 1 "$shards"); do
    files+=("shards/$k.json")
done
exec "${MASKLENS_CLI:-masklens-cli}" merge "${files[@]}" -o results.json
