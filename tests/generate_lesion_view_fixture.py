#!/usr/bin/python3
"""A pair with one matched, one missed and one false lesion for the app's
Lesions display mode (tests/ui/test_lesion_view.cpp), in tests/data/lesion_view/.

    /usr/bin/python3 tests/generate_lesion_view_fixture.py

Writes pred.npy and target.npy ([D, H, W] = [12, 32, 32], uint8, spacing 1)
and expected.json: every lesion as scipy.ndimage.label numbers it (26-
connectivity, the app's default; scan order, as the engine's ids), its
status under one-to-one IoU >= 0.5 matching (computed here with numpy:
IoU = |T & P| / |T | P|), its size, and probe voxels [d, h, w] on the
middle axial slice:
  inside   a voxel whose in-plane 4-neighbours are in the lesion and, for a
           matched target lesion, in its predicted lesion too (off every
           outline: the fill colour alone);
  corner   the lesion's in-plane corner (lo h, lo w) on that slice (on its
           outline: where the selection outline is drawn).
"""

import json
import pathlib

import numpy as np
from scipy import ndimage

OUT = pathlib.Path(__file__).resolve().parent / "data" / "lesion_view"
SHAPE = (12, 32, 32)
SLICE = 6  # the probed axial slice


def main():
    target = np.zeros(SHAPE, np.uint8)
    pred = np.zeros(SHAPE, np.uint8)
    # Matched: the prediction is the target lesion shifted by one row in h.
    target[4:9, 4:12, 4:12] = 1
    pred[4:9, 5:13, 4:12] = 1
    # Missed: a target lesion with no prediction near it.
    target[3:9, 20:27, 4:11] = 1
    # False: a predicted lesion with no target lesion.
    pred[4:10, 19:26, 19:28] = 1
    # A second false one, off the probed slice (a lesion the slice does not cut).
    pred[0:2, 2:4, 26:29] = 1

    structure = np.ones((3, 3, 3), bool)  # 26-connectivity
    t_lab, t_n = ndimage.label(target, structure)
    p_lab, p_n = ndimage.label(pred, structure)

    # One-to-one IoU >= 0.5 (greedy by decreasing IoU; here no conflicts).
    pairs = []
    for t in range(1, t_n + 1):
        for p in range(1, p_n + 1):
            inter = np.logical_and(t_lab == t, p_lab == p).sum()
            if inter:
                union = np.logical_or(t_lab == t, p_lab == p).sum()
                pairs.append((inter / union, t, p))
    pairs.sort(key=lambda x: (-x[0], x[1], x[2]))
    t_match, p_match = {}, {}
    for iou, t, p in pairs:
        if iou >= 0.5 and t not in t_match and p not in p_match:
            t_match[t], p_match[p] = p, t

    def probes(lab, label, also=None):
        plane = lab[SLICE] == label
        if also is not None:
            plane &= also[SLICE]
        if not plane.any():
            return None, None
        inner = plane.copy()
        inner[1:, :] &= plane[:-1, :]
        inner[:-1, :] &= plane[1:, :]
        inner[:, 1:] &= plane[:, :-1]
        inner[:, :-1] &= plane[:, 1:]
        hs, ws = np.nonzero(inner)
        k = len(hs) // 2  # a middle one in scan order
        whole = lab[SLICE] == label
        rows, cols = np.nonzero(whole)
        return [SLICE, int(hs[k]), int(ws[k])], [SLICE, int(rows.min()), int(cols.min())]

    lesions = []
    for side, lab, n, match in (("target", t_lab, t_n, t_match), ("prediction", p_lab, p_n, p_match)):
        for label in range(1, n + 1):
            if side == "target":
                status = "tp" if label in match else "fn"
                also = (p_lab == match[label]) if label in match else None
            else:
                status = "tp" if label in match else "fp"
                also = None
            inside, corner = probes(lab, label, also)
            lesions.append(
                {
                    "side": side,
                    "id": label,
                    "status": status,
                    "voxels": int((lab == label).sum()),
                    "inside": inside,
                    "corner": corner,
                }
            )

    OUT.mkdir(parents=True, exist_ok=True)
    np.save(OUT / "pred.npy", pred)
    np.save(OUT / "target.npy", target)
    with open(OUT / "expected.json", "w") as f:
        json.dump({"slice": SLICE, "lesions": lesions}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
