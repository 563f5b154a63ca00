#!/bin/bash
# Submits a MaskLens folder evaluation as a Slurm job array of N shards and a
# merge job that runs once every task has ended, whatever their exit status.
# Run it from the folder that is to hold shards/, logs/ and results.json (on a
# file system the compute nodes share); extra arguments go to both sbatch calls.
#   examples/slurm/submit.sh /data/preds /data/labels 16 [--partition=... ...]
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: submit.sh PRED_DIR TARGET_DIR N [SBATCH_OPTION...]" >&2
    exit 2
fi
pred=$1 target=$2 shards=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p shards logs
array=$(sbatch --parsable --array="1-$shards" "$@" "$here/evaluate_array.sh" "$pred" "$target" "$shards")
array=${array%%;*} # "jobid;cluster" on multi-cluster setups
merge=$(sbatch --parsable --dependency="afterany:$array" "$@" "$here/merge.sh" "$shards")
merge=${merge%%;*}
echo "array job: $array ($shards tasks, logs/masklens_${array}_K.out)"
echo "merge job: $merge (results.json, logs/masklens-merge_$merge.out)"
