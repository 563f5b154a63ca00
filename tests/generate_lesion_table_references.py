#!/usr/bin/env python3
"""Reference per-lesion tables (tests/engine/test_lesions.cpp, lesionTableEqualsNumpy).

Reads the cases of tests/data/lesions/*.npz (tests/generate_lesion_references.py
writes them: the masks and connected-components-3d's labels "pred_cN" /
"target_cN") and writes tests/data/lesions/table.json: for every case, with
the default connectivity (26 in 3D, 8 in 2D) and the overlap rule (a target
lesion is detected by every predicted lesion sharing a voxel with it, and
vice versa), one row per target lesion then per predicted lesion (cc3d's
ids, which number lesions in raster order as MaskLens does):

  side, id, voxels, volume_mm3   size (spacing product: 2D x * y)
  centroid_voxel [d, h, w]        scipy.ndimage.center_of_mass
  centroid_world [x, y, z]        origin + direction @ (spacing * [w, h, d])
  bbox_lo, bbox_hi [d, h, w]      scipy.ndimage.find_objects (hi exclusive)
  status, matched                 tp / fn / fp and the other side's ids
  dice                            target lesions: Dice against the union of
                                  their matched predicted lesions (0 when
                                  missed); false lesions 0; matched predicted
                                  lesions null

under one anisotropic, rotated geometry (SPACING_XYZ, ORIGIN, DIRECTION,
written into the file). Only NumPy and SciPy: run with Debian's Python,

    /usr/bin/python3 tests/generate_lesion_table_references.py

The output is committed; the tests need no Python.
"""

import json
import math
import os

import numpy as np
from scipy import ndimage as ndi

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "lesions")
SPACING_XYZ = (0.8, 1.25, 2.5)
ORIGIN = (-10.0, 20.5, 3.0)
# A rotation about z by 30 degrees, then the y axis flipped (a proper
# direction matrix need not be the identity).
_c, _s = math.cos(math.pi / 6), math.sin(math.pi / 6)
DIRECTION = ((_c, _s, 0.0), (_s, -_c, 0.0), (0.0, 0.0, 1.0))


def rows_for(pred_labels, target_labels, dims):
    spacing = np.array(SPACING_XYZ)
    voxel_volume = spacing[0] * spacing[1] * (1.0 if dims == 2 else spacing[2])
    direction = np.array(DIRECTION)
    if dims == 2:
        pred_labels, target_labels = pred_labels[None], target_labels[None]

    def geometry(labels, lesion_id):
        mask = labels == lesion_id
        voxels = int(mask.sum())
        centroid = np.array(ndi.center_of_mass(mask))  # [d, h, w]
        (sl,) = [s for s in ndi.find_objects(mask.astype(np.int32)) if s is not None]
        world = np.array(ORIGIN) + direction @ (spacing * centroid[::-1])
        return {
            "id": int(lesion_id),
            "voxels": voxels,
            "volume_mm3": voxels * voxel_volume,
            "centroid_voxel": [float(v) for v in centroid],
            "centroid_world": [float(v) for v in world],
            "bbox_lo": [s.start for s in sl],
            "bbox_hi": [s.stop for s in sl],
        }

    rows = []
    n_t, n_p = int(target_labels.max()), int(pred_labels.max())
    for t in range(1, n_t + 1):
        lesion = target_labels == t
        matched = sorted(int(p) for p in np.unique(pred_labels[lesion]) if p != 0)
        union = np.isin(pred_labels, matched) & (pred_labels != 0)
        dice = 2.0 * float((lesion & union).sum()) / float(lesion.sum() + union.sum())
        row = {"side": "target", **geometry(target_labels, t), "status": "tp" if matched else "fn",
               "matched": matched, "dice": dice}
        rows.append(row)
    for p in range(1, n_p + 1):
        lesion = pred_labels == p
        matched = sorted(int(t) for t in np.unique(target_labels[lesion]) if t != 0)
        row = {"side": "prediction", **geometry(pred_labels, p), "status": "tp" if matched else "fp",
               "matched": matched, "dice": None if matched else 0.0}
        rows.append(row)
    return rows


def main():
    names = sorted(f[:-4] for f in os.listdir(DATA) if f.endswith(".npz"))
    out = {"spacing_xyz": list(SPACING_XYZ), "origin": list(ORIGIN),
           "direction": [v for row in DIRECTION for v in row], "cases": {}}
    for name in names:
        arrays = np.load(os.path.join(DATA, name + ".npz"))
        dims = arrays["pred"].ndim
        conn = 26 if dims == 3 else 8
        out["cases"][name] = {
            "shape": list(arrays["pred"].shape),
            "rows": rows_for(arrays[f"pred_c{conn}"], arrays[f"target_c{conn}"], dims),
        }
    with open(os.path.join(DATA, "table.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"{len(out['cases'])} cases written to {DATA}/table.json")


if __name__ == "__main__":
    main()
