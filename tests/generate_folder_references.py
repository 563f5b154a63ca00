#!/usr/bin/python3
"""Independent references for test_cli_folder::nifti_samples_match_references:
the metrics of resources/samples/organ_*.nii.gz (binary: a float32
probability prediction against a uint8 mask) and labels_*.nii.gz (uint8 label
maps, labels 1..3 one-vs-rest), computed here with nibabel, numpy and scipy
from the definitions in README.md, not with MaskLens:

  hard masks   P = prediction >= 0.5 (binary) or prediction == label,
               T = target > 0.5 (binary) or target == label
  dice, iou    2tp / (2tp + fp + fn), tp / (tp + fp + fn) (no smoothing)
  surface(M)   M ^ scipy.ndimage.binary_erosion(M) (face connectivity, the
               outside of the image is background)
  distances    scipy.ndimage.distance_transform_edt(~surface(B), sampling)
               at surface(A)'s voxels, sampling = the NIfTI zooms in array
               axis order (z, y, x)
  hd95         max of the two directed numpy.percentile(d, 95) (linear;
               --hd-rule max, the default)
  assd         mean of both directions' distances pooled

Run with Debian's interpreter (python3-numpy, python3-scipy, python3-nibabel):

    /usr/bin/python3 tests/generate_folder_references.py

Writes tests/data/folder_references/samples.json (committed; the tests need
no Python).
"""

import json
import os

import nibabel as nib
import numpy as np
from scipy import ndimage as ndi

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, "..", "resources", "samples")
OUT = os.path.join(HERE, "data", "folder_references")


def load(name):
    image = nib.load(os.path.join(SAMPLES, name))
    zyx = np.asarray(image.dataobj).T  # nibabel [x, y, z] -> [z, y, x]
    sampling = tuple(float(v) for v in image.header.get_zooms()[:3][::-1])
    return zyx, sampling


def surface(mask):
    return mask ^ ndi.binary_erosion(mask)


def directed(a_surface, b_surface, sampling):
    return ndi.distance_transform_edt(~b_surface, sampling=sampling)[a_surface]


def metrics(p, t, sampling):
    tp = int(np.sum(p & t))
    fp = int(np.sum(p & ~t))
    fn = int(np.sum(~p & t))
    sp, st = surface(p), surface(t)
    assert sp.any() and st.any(), "both surfaces must be present for these references"
    d_pt = directed(sp, st, sampling)
    d_tp = directed(st, sp, sampling)
    return {
        "dice": 2 * tp / (2 * tp + fp + fn),
        "iou": tp / (tp + fp + fn),
        "tp": tp,
        "hd95": float(max(np.percentile(d_pt, 95), np.percentile(d_tp, 95))),
        "assd": float(np.concatenate([d_pt, d_tp]).mean()),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    out = {"generator": "tests/generate_folder_references.py", "metrics": ["dice", "iou", "tp", "hd95", "assd"]}

    pred, sampling = load("organ_pred.nii.gz")
    target, target_sampling = load("organ_target.nii.gz")
    assert sampling == target_sampling and pred.dtype == np.float32
    out["organ"] = {"values": metrics(pred >= np.float32(0.5), target > 0.5, sampling)}

    pred, sampling = load("labels_pred.nii.gz")
    target, _ = load("labels_target.nii.gz")
    labels = sorted((set(np.unique(pred).tolist()) | set(np.unique(target).tolist())) - {0})
    assert labels == [1, 2, 3], labels
    out["labels"] = {"labels": [{"label": label, "values": metrics(pred == label, target == label, sampling)}
                                for label in labels]}
    with open(os.path.join(OUT, "samples.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
