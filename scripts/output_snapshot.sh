#!/usr/bin/env bash
# Writes masklens-cli's outputs (JSON, CSV, table, stderr and exit status) on
# the bundled samples and on every test fixture, with several option sets,
# into OUT_DIR. A refactor that must not change behaviour runs it with the
# CLI built before and after and compares the two folders:
#
#   scripts/output_snapshot.sh OLD_CLI /tmp/before
#   scripts/output_snapshot.sh build/release/app/cli/masklens-cli /tmp/after
#   diff -r /tmp/before /tmp/after && echo identical
#
# Usage: scripts/output_snapshot.sh CLI OUT_DIR
set -uo pipefail
cli=$(realpath "$1")
out=$2
cd "$(dirname "$0")/.."
mkdir -p "$out"
rm -rf "${out:?}"/*

# Option sets: the defaults, everything, the multi-class rules and the
# distance variants. --threads 1 and 2 must agree; both are kept.
option_sets=(
    "default|"
    "all|--metrics all --nsd-tolerance 1"
    "all_t2|--metrics all --nsd-tolerance 1 --threads 2"
    "softmax|--metrics all --nsd-tolerance 1 --activation softmax --include-background --class-reduction mean"
    "argmax_sum|--metrics dice,iou,dice_loss,ce,generalized_dice_loss --decision argmax --class-reduction sum --batch-reduction sum --gdl-weight simple"
    "logits|--metrics all --nsd-tolerance 2 --logits --threshold 0.3 --empty one"
    "subvoxel|--metrics hd,hd95,assd,nsd,hd95_p2t,asd_t2p --nsd-tolerance 1 --surface subvoxel --hd-rule pooled"
    "ignore_empty|--metrics dice,iou,tp,fp --ignore-empty-target --pool-batch --axis w"
)

run_case() { # name pred target
    local name=$1 pred=$2 target=$3
    for set in "${option_sets[@]}"; do
        local tag=${set%%|*} flags=${set#*|}
        for format in json csv table; do
            local file="$out/$name.$tag.$format"
            # shellcheck disable=SC2086
            "$cli" evaluate "$pred" "$target" $flags --format "$format" >"$file" 2>"$file.stderr"
            echo "exit $?" >>"$file.stderr"
        done
    done
}

for pred in resources/samples/*_pred.*; do
    run_case "sample_$(basename "${pred%%_pred.*}")" "$pred" "${pred/_pred./_target.}"
done
for dir in tests/data/golden/*/ tests/data/multiclass/*/ tests/data/multiclass_losses/*/; do
    [[ -f $dir/pred.npy && -f $dir/target.npy ]] || continue
    run_case "$(basename "$(dirname "$dir")")_$(basename "$dir")" "$dir/pred.npy" "$dir/target.npy"
done

# A folder run over the samples (paired by case id), its shards and merge.
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
mkdir -p "$folder/p" "$folder/t"
for pred in resources/samples/*_pred.*; do
    base=$(basename "$pred")
    cp "$pred" "$folder/p/${base/_pred/}"
    cp "${pred/_pred./_target.}" "$folder/t/${base/_pred/}"
done
(cd "$folder" && "$cli" evaluate-folder p t --metrics all --nsd-tolerance 1 --quiet \
    >"$out/folder.json" 2>"$out/folder.stderr"; echo "exit $?" >>"$out/folder.stderr")
(cd "$folder" && "$cli" evaluate-folder p t --quiet --format csv --per-slice \
    >"$out/folder.csv" 2>"$out/folder_csv.stderr"; echo "exit $?" >>"$out/folder_csv.stderr")
for k in 1 2; do
    (cd "$folder" && "$cli" evaluate-folder p t --quiet --shard "$k/2" -o "s$k.json" 2>/dev/null)
done
(cd "$folder" && "$cli" merge s2.json s1.json --quiet >"$out/merge.json" 2>"$out/merge.stderr"
    echo "exit $?" >>"$out/merge.stderr")
echo "$(find "$out" -type f | wc -l) files in $out"
