#!/usr/bin/env python3
"""BraTS 2023 lesion-wise reference scores (tests/engine/test_lesions.cpp).

Reads the 3D cases' label maps ("pred_labels", "target_labels": labels 1, 2, 3
by position, so that the tissues WT = {1,2,3}, TC = {1,3} and ET = {3}
differ) from tests/data/lesions/*.npz (tests/generate_lesion_references.py
writes them), saves them as NIfTI with the zooms SPACING_DHW (array axis
order) and runs the BraTS 2023 reference implementation on them:
rachitsaluja/BraTS-2023-Metrics, metrics.py, get_LesionWiseResults, for the
challenges BraTS-GLI (dilation 3, threshold 50 mm^3), BraTS-MEN (1, 50) and
BraTS-MET (1, 2). Writes tests/data/lesions/brats.json: per case, challenge
and tissue Num_TP, Num_FP, Num_FN, LesionWise_Score_Dice and
LesionWise_Score_HD95. Also writes tests/data/lesions/brats_lesions.json: per
case, challenge and tissue the per-lesion rows of get_LesionWiseScores
(metric_pairs: each merged target lesion's voxels, the predicted lesions it
intersects (cc3d ids), Dice and HD95 with inf -> 374, as get_LesionWiseResults
replaces it) and the false predicted lesions' ids. BraTS labels the arrays
nibabel gives it (Fortran order: cc3d numbers their components in Fortran
raster order); the ids are renumbered here to C raster order (the order of
each component's first voxel in the [D,H,W] array, MaskLens's numbering)
by labelling the same tissue mask both ways with cc3d.

The BraTS code is not on PyPI and needs NumPy < 2 (np.Inf) and an old pandas
(see _replace_inf below): run it in a venv over
Debian's numpy / scipy / nibabel, with a checkout of the repository:

    /usr/bin/python3 -m venv --system-site-packages /work/venv-brats
    /work/venv-brats/bin/pip install "pandas<2" connected-components-3d
    BRATS_METRICS_DIR=/path/to/BraTS-2023-Metrics \\
        /work/venv-brats/bin/python tests/generate_brats_references.py

The output is committed; the tests need no Python.
"""

import json
import math
import os
import sys
import tempfile

import cc3d
import nibabel as nib
import numpy as np

import pandas as pd

sys.path.insert(0, os.environ["BRATS_METRICS_DIR"])
import metrics as brats  # noqa: E402  (BraTS-2023-Metrics/metrics.py)

# The BraTS code calls DataFrame.replace(np.inf, 374) on frames that hold a
# column of arrays (the intersecting prediction labels); pandas since 1.4
# fails there ("truth value of an array is ambiguous"; BraTS pinned 1.3.4,
# which has no wheel for this Python). Replace infinite scalars cell by cell
# instead: the same result for every column BraTS reads.
_replace = pd.DataFrame.replace


def _replace_inf(self, to_replace=None, value=None, inplace=False, **kwargs):
    if not (isinstance(to_replace, float) and to_replace == np.inf):
        return _replace(self, to_replace, value, inplace=inplace, **kwargs)

    def cell(v):
        return value if isinstance(v, (float, np.floating)) and v == np.inf else v

    replaced = self.apply(lambda column: column.map(cell))
    if inplace:
        self[replaced.columns] = replaced
        return None
    return replaced


pd.DataFrame.replace = _replace_inf

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "lesions")
SPACING_DHW = (1.5, 1.0, 0.8)
CHALLENGES = {"BraTS-GLI": (3, 50), "BraTS-MEN": (1, 50), "BraTS-MET": (1, 2)}
KEYS = ("Num_TP", "Num_FP", "Num_FN", "LesionWise_Score_Dice", "LesionWise_Score_HD95")


def number(v):
    v = float(v)
    return "nan" if math.isnan(v) else v


def c_order_ids(pred_path, gt_path, tissue):
    """{BraTS's predicted lesion id: the same lesion's id in C raster order}."""
    pred, gt = nib.load(pred_path).get_fdata(), nib.load(gt_path).get_fdata()
    pred, _ = brats.get_TissueWiseSeg(prediction_matrix=pred, gt_matrix=gt, tissue_type=tissue)
    theirs = cc3d.connected_components(pred, connectivity=26)  # as get_LesionWiseScores
    ours = cc3d.connected_components(np.ascontiguousarray(pred.astype(np.uint8)), connectivity=26)
    assert ours.flags["C_CONTIGUOUS"]
    mapping = {}
    for a, b in zip(theirs.ravel(), ours.ravel()):
        if a != 0:
            assert mapping.setdefault(int(a), int(b)) == int(b)
    assert len(set(mapping.values())) == len(mapping)
    return mapping


def main():
    out = {"spacing_dhw": list(SPACING_DHW), "challenges": {k: list(v) for k, v in CHALLENGES.items()},
           "cases": {}}
    lesions_out = {}
    names = sorted(f[:-4] for f in os.listdir(DATA) if f.endswith(".npz"))
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            arrays = np.load(os.path.join(DATA, name + ".npz"))
            if "pred_labels" not in arrays:
                continue
            paths = {}
            for side in ("pred", "target"):
                paths[side] = os.path.join(tmp, f"{name}_{side}.nii.gz")
                affine = np.diag(list(SPACING_DHW) + [1.0])
                nib.save(nib.Nifti1Image(arrays[side + "_labels"], affine), paths[side])
            per_case = {}
            per_lesion = {}
            voxel_volume = float(np.prod(nib.load(paths["pred"]).header.get_zooms()))
            for challenge, (dilation, _) in CHALLENGES.items():
                df = brats.get_LesionWiseResults(paths["pred"], paths["target"], challenge)
                per_case[challenge] = {row["Labels"]: {k: number(row[k]) for k in KEYS} for _, row in df.iterrows()}
                per_lesion[challenge] = {}
                for tissue in ("WT", "TC", "ET"):
                    _, _, fp, _, pairs, *_ = brats.get_LesionWiseScores(paths["pred"], paths["target"], tissue,
                                                                        dilation)
                    ids = c_order_ids(paths["pred"], paths["target"], tissue)
                    per_lesion[challenge][tissue] = {
                        "target": [{"voxels": int(round(vol / voxel_volume)),
                                    "matched": sorted(ids[int(p)] for p in matched),
                                    "dice": float(dice),
                                    "hd95": 374.0 if math.isinf(hd) else float(hd)}
                                   for matched, _, vol, dice, hd in pairs],
                        "false": sorted(ids[int(p)] for p in fp),
                    }
            out["cases"][name] = per_case
            lesions_out[name] = per_lesion
    with open(os.path.join(DATA, "brats.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    with open(os.path.join(DATA, "brats_lesions.json"), "w") as f:
        json.dump({"spacing_dhw": list(SPACING_DHW), "cases": lesions_out}, f, indent=1)
        f.write("\n")
    print(f"{len(out['cases'])} cases written to {DATA}/brats.json and brats_lesions.json")


if __name__ == "__main__":
    main()
