#!/usr/bin/env bash
# Sets up (packages + build) and runs MaskLens on its bundled sample data.
# With a display and the desktop app built, this opens the app; otherwise it
# prints the command-line evaluation of the bundled samples.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
preset="${MASKLENS_PRESET:-release}"
build="build/$preset"
if [ -x "$build/app/gui/masklens" ] && [ -n "${DISPLAY:-}" ] && [ -z "${MASKLENS_CLI_ONLY:-}" ]; then
  exec "$build/app/gui/masklens" "$@"
fi
samples=resources/samples
for pair in "seed_2d_pred.npy seed_2d_target.npy" "seed_3d_pred.npy seed_3d_target.npy" \
            "organ_pred.nii.gz organ_target.nii.gz" "labels_pred.nii.gz labels_target.nii.gz"; do
  set -- $pair
  echo "== $1 vs $2"
  "$build/app/cli/masklens-cli" evaluate "$samples/$1" "$samples/$2"
  echo
done
