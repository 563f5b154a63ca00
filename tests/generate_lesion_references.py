#!/usr/bin/env python3
"""Reference values for MaskLens's lesion-wise metrics (tests/engine/test_lesions.cpp).

Writes tests/data/lesions/:
  CASE.npz         the masks "pred" and "target" (uint8, [D,H,W] or [H,W]) and
                   connected-components-3d's labels of both on every
                   connectivity, "pred_cN" / "target_cN" (uint32; N = 6, 18,
                   26 for 3D cases, 4, 8 for 2D ones)
  references.json  per case and configuration (connectivity, matching rule,
                   IoU threshold, minimum lesion size) the lesion counts and
                   metrics:
                     rule "iou":     panoptica's Panoptica_Evaluator
                                     (UNMATCHED_INSTANCE input = cc3d's labels
                                     after the size filter, NaiveThresholdMatching
                                     with IOU at the threshold): tp, fp, fn,
                                     prec, rec, rq, sq, pq; f1 = rq
                     rule "overlap": written out below in NumPy (any shared
                                     voxel detects a target lesion / makes a
                                     predicted lesion correct, many-to-many)
  The 3D cases' .npz also hold label maps "pred_labels" / "target_labels"
  (labels 1, 2, 3 by position) for tests/generate_brats_references.py.
  Values panoptica could not compute (ZeroDivisionError) are written as "nan".
  A semantic check also runs panoptica on the binary masks themselves
  (SEMANTIC input, its own cc3d labelling, 26-connectivity) for the 3D cases
  and asserts it agrees with the instance input.

Run in a venv that sees Debian's numpy/scipy:

    /usr/bin/python3 -m venv --system-site-packages /work/venv-lesion
    /work/venv-lesion/bin/pip install panoptica "connected-components-3d<4"
    /work/venv-lesion/bin/pip install "nibabel>=5.2"   # panoptica imports it; Debian's needs NumPy 1
    /work/venv-lesion/bin/python tests/generate_lesion_references.py

The outputs are committed; the tests need no Python.
"""

import json
import math
import os

import cc3d
import numpy as np
from scipy import ndimage as ndi

from panoptica import (
    CCABackend,
    ConnectedComponentsInstanceApproximator,
    InputType,
    NaiveThresholdMatching,
    Panoptica_Evaluator,
)
from panoptica.metrics import Metric

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "lesions")

CONNECTIVITIES = {3: (6, 18, 26), 2: (4, 8)}



def box(shape, lo, hi):
    m = np.zeros(shape, np.uint8)
    m[tuple(slice(a, b) for a, b in zip(lo, hi))] = 1
    return m


def hand_cases():
    cases = {}
    s = (8, 9, 10)
    # Two target cubes sharing a face are one lesion; the prediction splits them.
    t = box(s, (1, 1, 1), (4, 4, 4)) | box(s, (1, 1, 4), (4, 4, 7))
    p = box(s, (1, 1, 1), (4, 4, 3)) | box(s, (1, 1, 5), (4, 4, 7))
    cases["touching"] = (p, t)
    # Lesions joined only along an edge (18, 26) or only at a corner (26).
    t = np.zeros(s, np.uint8)
    t[1, 1, 1] = t[2, 2, 1] = 1  # edge-joined pair (d, h differ)
    t[5, 5, 5] = t[6, 6, 6] = 1  # corner-joined pair
    t[1, 6, 6] = t[1, 7, 7] = 1  # edge-joined in plane
    p = np.zeros(s, np.uint8)
    p[1, 1, 1] = p[2, 2, 2] = 1  # corner-joined
    p[5, 5, 5] = p[6, 6, 5] = 1  # edge-joined
    p[1, 6, 6] = p[1, 6, 7] = 1  # face-joined
    cases["diagonal"] = (p, t)
    # One predicted lesion covering two target lesions.
    t = box(s, (2, 2, 1), (5, 5, 3)) | box(s, (2, 2, 6), (5, 5, 9))
    p = box(s, (1, 1, 0), (6, 6, 10))
    cases["one_covers_two"] = (p, t)
    # Target lesion hit by two predictions, one good, one small.
    t = box(s, (1, 1, 1), (6, 6, 6))
    p = box(s, (1, 1, 1), (6, 6, 5)) | box(s, (1, 1, 7), (2, 2, 8)) | box(s, (7, 7, 8), (8, 8, 10))
    t = t | box(s, (1, 1, 7), (5, 2, 10))
    cases["split_and_small"] = (p, t)
    # Empty masks on either side and both.
    e = np.zeros(s, np.uint8)
    lesion = box(s, (2, 2, 2), (4, 5, 6))
    cases["both_empty"] = (e, e)
    cases["empty_pred"] = (e, lesion | box(s, (6, 6, 7), (8, 8, 9)))
    cases["empty_target"] = (lesion, e)
    # Lesions on every face, edge and corner of the volume.
    t = np.zeros(s, np.uint8)
    t[0, :, 0] = 1
    t[-1, -1, -1] = 1
    t[-2, 0, -1] = 1
    t[:, -1, 4] = 1
    t[3:5, 3:5, 0] = 1
    p = np.zeros(s, np.uint8)
    p[0, :5, 0] = 1
    p[-1, -1, -2:] = 1
    p[-1, 0, -1] = 1
    p[:, -1, 4:6] = 1
    p[0, 0, -1] = 1
    cases["edges"] = (p, t)
    # Exactly IoU 0.5: a 2-voxel prediction on a 4-voxel lesion (panoptica
    # matches at >= threshold).
    t = box(s, (3, 3, 3), (4, 4, 7))
    p = box(s, (3, 3, 3), (4, 4, 5)) | box(s, (0, 0, 0), (1, 1, 1))
    cases["iou_half"] = (p, t)
    # 2D: diagonal joins, one prediction over two lesions, edges.
    s2 = (9, 11)
    t = np.zeros(s2, np.uint8)
    t[0, 0] = t[1, 1] = 1
    t[3:6, 3:5] = 1
    t[3:6, 6:8] = 1
    t[8, 10] = t[7, 10] = 1
    p = np.zeros(s2, np.uint8)
    p[0, 0] = 1
    p[1, 1] = 1
    p[2:7, 2:9] = 1
    p[8, 0] = 1
    cases["diagonal2d"] = (p, t)
    return cases


def random_cases(rng):
    cases = {}
    for name, shape, sigma, level in [
        ("blobs3d", (20, 24, 22), 1.5, 0.75),
        ("blobs3d_dense", (16, 18, 20), 1.0, 0.55),
        ("blobs2d", (40, 36), 1.5, 0.7),
    ]:
        t = ndi.gaussian_filter(rng.standard_normal(shape), sigma)
        t = (t > np.quantile(t, level)).astype(np.uint8)
        # The prediction: the target moved and eroded / grown at random, plus specks.
        noise = ndi.gaussian_filter(rng.standard_normal(shape), sigma)
        p = ((ndi.gaussian_filter(t.astype(float), 1.0) + 0.35 * noise) > 0.45).astype(np.uint8)
        p[rng.random(shape) < 0.01] = 1
        cases[name] = (p, t)
    # Sparse voxels: many components and many diagonal-only joins.
    for name, shape, density in [("sparse3d", (14, 15, 16), 0.08), ("sparse2d", (30, 31), 0.3)]:
        t = (rng.random(shape) < density).astype(np.uint8)
        p = t.copy()
        flip = rng.random(shape) < 0.2
        p[flip] = 1 - p[flip]
        cases[name] = (p, t)
    return cases


def without_small(labels, min_size):
    """cc3d labels with components under min_size voxels removed, renumbered."""
    if min_size <= 0:
        return labels
    ids, counts = np.unique(labels, return_counts=True)
    small = ids[(counts < min_size) & (ids != 0)]
    kept = labels.copy()
    kept[np.isin(kept, small)] = 0
    return cc3d_renumber(kept)


def cc3d_renumber(labels):
    ids = np.unique(labels)
    ids = ids[ids != 0]
    out = np.zeros_like(labels)
    for new, old in enumerate(ids, start=1):
        out[labels == old] = new
    return out


def number(v):
    if v is None:
        return "nan"
    v = float(v)
    if math.isnan(v):
        return "nan"
    return v


def panoptica_values(pred_labels, target_labels, threshold):
    evaluator = Panoptica_Evaluator(
        expected_input=InputType.UNMATCHED_INSTANCE,
        instance_matcher=NaiveThresholdMatching(matching_metric=Metric.IOU, matching_threshold=threshold),
        decision_metric=Metric.IOU,
        decision_threshold=threshold,
        verbose=False,
        log_times=False,
    )
    result = evaluator.evaluate(pred_labels.astype(np.uint32), target_labels.astype(np.uint32), verbose=False)
    result = result["ungrouped"]
    result = result[0] if isinstance(result, tuple) else result
    d = result.to_dict()
    out = {k: number(d.get(k)) for k in ("tp", "fp", "fn", "prec", "rec", "rq", "sq", "pq")}
    out["f1"] = out["rq"] if out["tp"] != "nan" and (d["tp"] + d["fp"] + d["fn"]) > 0 else "nan"
    return out


def overlap_values(pred_labels, target_labels):
    both = (pred_labels > 0) & (target_labels > 0)
    detected = np.unique(target_labels[both])
    correct = np.unique(pred_labels[both])
    n_t = int(target_labels.max())
    n_p = int(pred_labels.max())
    tp, mp = len(detected), len(correct)
    prec = mp / n_p if n_p else float("nan")
    rec = tp / n_t if n_t else float("nan")
    if n_t == 0 and n_p == 0:
        f1 = float("nan")
    elif n_t == 0 or n_p == 0 or prec + rec == 0:
        f1 = 0.0
    else:
        f1 = 2 * prec * rec / (prec + rec)
    return {"tp": tp, "fp": n_p - mp, "fn": n_t - tp, "prec": number(prec), "rec": number(rec), "f1": number(f1)}


def label_map(mask):
    """Labels 1, 2, 3 by position along the last axis (ET = 3 in the middle band)."""
    w = mask.shape[-1]
    band = np.zeros(w, np.uint8)
    band[: w // 3] = 1
    band[w // 3 : 2 * w // 3] = 3
    band[2 * w // 3 :] = 2
    return (mask.astype(np.uint8) * band).astype(np.uint8)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(17)
    cases = hand_cases()
    cases.update(random_cases(rng))
    references = {"cases": []}
    for name, (pred, target) in cases.items():
        dims = pred.ndim
        arrays = {"pred": pred.astype(np.uint8), "target": target.astype(np.uint8)}
        configs = []
        for conn in CONNECTIVITIES[dims]:
            pl = cc3d.connected_components(pred, connectivity=conn)
            tl = cc3d.connected_components(target, connectivity=conn)
            arrays[f"pred_c{conn}"] = pl.astype(np.uint32)
            arrays[f"target_c{conn}"] = tl.astype(np.uint32)
            for min_size in (0, 3):
                pk, tk = without_small(pl, min_size), without_small(tl, min_size)
                for threshold in (0.5, 0.3):
                    values = panoptica_values(pk, tk, threshold)
                    configs.append({"connectivity": conn, "match": "iou", "iou": threshold,
                                    "min_size": min_size, "values": values})
                configs.append({"connectivity": conn, "match": "overlap", "iou": 0.5,
                                "min_size": min_size, "values": overlap_values(pk, tk)})
        if dims == 3:
            # panoptica's own labelling of the binary masks agrees with cc3d's 26.
            semantic = Panoptica_Evaluator(
                expected_input=InputType.SEMANTIC,
                instance_approximator=ConnectedComponentsInstanceApproximator(cca_backend=CCABackend.cc3d),
                instance_matcher=NaiveThresholdMatching(),
                verbose=False,
                log_times=False,
            )
            result = semantic.evaluate(pred, target, verbose=False)["ungrouped"]
            result = result[0] if isinstance(result, tuple) else result
            d = result.to_dict()
            instance = next(c for c in configs if c["connectivity"] == 26 and c["match"] == "iou"
                            and c["min_size"] == 0 and c["iou"] == 0.5)["values"]
            for k in ("tp", "fp", "fn", "rq", "sq", "pq"):
                a, b = number(d.get(k)), instance[k]
                assert a == b or (a != "nan" and b != "nan" and abs(a - b) < 1e-12), (name, k, a, b)
        if dims == 3:
            arrays["pred_labels"] = label_map(pred)
            arrays["target_labels"] = label_map(target)
        np.savez_compressed(os.path.join(OUT, name + ".npz"), **arrays)
        references["cases"].append({"name": name, "shape": list(pred.shape), "configs": configs})
    with open(os.path.join(OUT, "references.json"), "w") as f:
        json.dump(references, f, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases written to {OUT}")


if __name__ == "__main__":
    main()
