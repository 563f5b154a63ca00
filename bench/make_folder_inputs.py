#!/usr/bin/python3
"""Writes the folder-run inputs of bench/folder_speed.sh into a folder.

CASES cases of n^3 voxels (default 20 of 256^3), each an organ-like pair as in
make_read_inputs.py (float32 prediction, uint8 target, single-file NIfTI-1,
gzip level 6), the ellipsoid shifted per case so that the cases differ:
  FOLDER/pred/case_NN.nii.gz, FOLDER/target/case_NN.nii.gz
Files that exist are kept. Uses numpy only.

  /usr/bin/python3 bench/make_folder_inputs.py /tmp/folder_inputs [CASES] [N]
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_read_inputs import organ_pair, write_nii_gz  # noqa: E402


def main():
    folder = sys.argv[1]
    cases = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 256
    for sub in ("pred", "target"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    base = None
    for k in range(cases):
        names = [os.path.join(folder, sub, f"case_{k:02d}.nii.gz") for sub in ("pred", "target")]
        if all(os.path.exists(name) for name in names):
            continue
        if base is None:
            base = organ_pair(n)
        shift = k - cases // 2
        pred = np.roll(base[0], shift, axis=2)
        target = np.roll(base[1], shift, axis=1)
        write_nii_gz(names[0], pred, 16, 32)
        write_nii_gz(names[1], target, 2, 8)


if __name__ == "__main__":
    main()
