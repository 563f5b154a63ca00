#!/usr/bin/env python3
"""Lesion-wise speed against the references, measured in one run
(docs/benchmarks.md, "Lesion-wise evaluation").

1. Labelling: a 512^3 mask of ellipsoidal lesions plus speckle (tens of
   thousands of components), labelled 26-connected by
   connected-components-3d (cc3d.connected_components, binary_image=True:
   its fastest path, one thread) and by masklens_bench_components (all
   threads and one thread), best of REPEATS each.
2. A full lesion-wise evaluation of a 256^3 BraTS-like case (tens of
   lesions, NIfTI, 1 mm): the BraTS 2023 reference
   (get_LesionWiseScores, WT, dilation 1: Num_TP/FP/FN, lesion Dice, HD95)
   against `masklens-cli evaluate` with the same rule (its time includes
   starting the process and reading both files, as the reference's does),
   and the values of both side by side.

Run in the venv of tests/generate_brats_references.py (cc3d, the BraTS code):

    BRATS_METRICS_DIR=/path/to/BraTS-2023-Metrics /work/venv-brats/bin/python \\
        bench/lesion_speed.py BUILD_DIR [REPEATS]

BUILD_DIR holds bench/masklens_bench_components and app/cli/masklens-cli.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import cc3d
import nibabel as nib
import numpy as np

sys.path.insert(0, os.environ["BRATS_METRICS_DIR"])
import metrics as brats  # noqa: E402


def lesions(shape, count, rng, radius):
    """Random ellipsoids inside `shape`."""
    grid = np.zeros(shape, np.uint8)
    for _ in range(count):
        r = rng.uniform(radius[0], radius[1], 3)
        c = [rng.uniform(r[i] + 1, shape[i] - r[i] - 1) for i in range(3)]
        lo = [max(0, int(c[i] - r[i])) for i in range(3)]
        hi = [min(shape[i], int(c[i] + r[i]) + 2) for i in range(3)]
        z, y, x = np.ogrid[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
        inside = ((z - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((x - c[2]) / r[2]) ** 2 <= 1
        grid[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] |= inside.astype(np.uint8)
    return grid


def best(f, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    build = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rng = np.random.default_rng(2026)
    out = {}

    mask = lesions((512, 512, 512), 400, rng, (3, 25))
    mask[rng.random(mask.shape) < 0.002] = 1
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "mask.raw")
        mask.tofile(raw)
        labels, n = cc3d.connected_components(mask, connectivity=26, return_N=True, binary_image=True)
        out["cc3d_s"] = best(lambda: cc3d.connected_components(mask, connectivity=26, binary_image=True), repeats)
        out["components"] = int(n)
        for threads in (0, 1):
            run = subprocess.run([os.path.join(build, "bench", "masklens_bench_components"), raw, "512", "512",
                                  "512", "26", str(repeats), str(threads)], check=True, capture_output=True,
                                 text=True)
            result = json.loads(run.stdout)
            assert result["components"] == n, (result, n)
            out[f"masklens_threads{threads}_s"] = result["best_s"]
        out["ratio_all_threads"] = out["cc3d_s"] / out["masklens_threads0_s"]
        out["ratio_one_thread"] = out["cc3d_s"] / out["masklens_threads1_s"]

        # 2. BraTS-like 256^3 case.
        shape = (256, 256, 256)
        target = lesions(shape, 40, rng, (2, 12))
        pred = target.copy()
        # Drop a few lesions, grow others, add false ones.
        tl = cc3d.connected_components(target, connectivity=26)
        for lab in rng.choice(np.arange(1, tl.max() + 1), 6, replace=False):
            pred[tl == lab] = 0
        pred = np.maximum(pred, lesions(shape, 15, rng, (1, 5)))
        paths = {}
        for name, array in (("pred", pred), ("target", target)):
            paths[name] = os.path.join(tmp, name + ".nii.gz")
            nib.save(nib.Nifti1Image(array, np.eye(4)), paths[name])
        result = {}

        def reference():
            tp, fn, fp, gt_tp, pairs, *_ = brats.get_LesionWiseScores(paths["pred"], paths["target"], "WT", 1)
            dice = [p[3] for p in pairs]
            hd = [374.0 if np.isinf(p[4]) else p[4] for p in pairs]
            scored = len(pairs) + len(fp)
            result["reference"] = {"lesion_tp": len(gt_tp), "lesion_fp": len(fp), "lesion_fn": len(fn),
                                   "lesion_dice": sum(dice) / scored, "lesion_hd95": (sum(hd) + 374 * len(fp)) / scored}

        out["brats_reference_s"] = best(reference, max(1, repeats // 2))
        cli = [os.path.join(build, "app", "cli", "masklens-cli"), "evaluate", paths["pred"], paths["target"],
               "--metrics", "lesion_tp,lesion_fp,lesion_fn,lesion_dice,lesion_hd95", "--lesion-match", "brats",
               "--lesion-dilation", "1", "--surface", "subvoxel", "--format", "json", "--no-slices"]

        def ours():
            run = subprocess.run(cli, check=True, capture_output=True, text=True)
            result["masklens"] = json.loads(run.stdout)["batch"]

        out["masklens_cli_s"] = best(ours, repeats)
        out["evaluation_ratio"] = out["brats_reference_s"] / out["masklens_cli_s"]
        out["values"] = result
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
