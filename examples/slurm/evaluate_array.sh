#!/bin/bash
#SBATCH --job-name=masklens
#SBATCH --cpus-per-task=8
#SBATCH --output=logs/%x_%A_%a.out
# One shard of a MaskLens folder evaluation: task K of a job array 1-N writes
# shards/K.json in the folder the job was submitted from. submit.sh submits it;
# to re-run shard 7 alone: sbatch --array=7 evaluate_array.sh PRED_DIR TARGET_DIR N
# N is the shard count fixed at submission (not SLURM_ARRAY_TASK_COUNT, which
# is 1 for a re-run task). Exit status: 0 every pair of the shard evaluated
# (also when the shard holds no pair), 1 a pair failed or no pair at all in the
# folders (the shard file is still written), 2 a usage error.
set -euo pipefail
if [ $# -ne 3 ] || [ -z "${SLURM_ARRAY_TASK_ID:-}" ]; then
    echo "usage: sbatch --array=1-N evaluate_array.sh PRED_DIR TARGET_DIR N" >&2
    exit 2
fi
pred=$1 target=$2 shards=$3
k=$SLURM_ARRAY_TASK_ID
mkdir -p shards
exec "${MASKLENS_CLI:-masklens-cli}" evaluate-folder "$pred" "$target" --metrics all --nsd-tolerance 1 \
    --threads "${SLURM_CPUS_PER_TASK:-1}" --quiet \
    --shard "$k/$shards" -o "shards/$k.json"
