#!/usr/bin/python3
"""Orientation fixtures for tests/ui/test_orientation.cpp (tests/data/orientation/).

    /usr/bin/python3 tests/generate_orientation_fixtures.py

One asymmetric phantom (8 x 6 x 4 voxels, nibabel's X, Y, Z order) saved with
different affines, and what a radiology viewer must show for each, derived
from the affine alone (nibabel.aff2axcodes: the anatomical direction each
index axis points to):

* marker "tp": voxels with x index 0..1 (every y, z), in prediction and target;
* marker "fn": voxels with y index 0..1 and x index >= 4, target only.

Identity RAS affine: +x index points to R, so x index 0..1 is the patient's
Left; +y points to A, so y index 0..1 is Posterior. diag(-1, -1, 1): x index
0..1 is the patient's Right, y index 0..1 Anterior. The NRRD file says
"left-posterior-superior" with identity directions (+x L, +y P): as the second.

Radiological convention (ITK-SNAP and Slicer), axial view: patient Right on
screen left, Anterior at the top. expected.json records, per file, the screen
side of each marker and the edge letters; the test reads it.
"""

import json
import pathlib

import nibabel as nib
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "data" / "orientation"
SHAPE = (8, 6, 4)  # X, Y, Z


def phantom():
    target = np.zeros(SHAPE, np.uint8)
    prediction = np.zeros(SHAPE, np.uint8)
    target[0:2, :, :] = 1
    prediction[0:2, :, :] = 1
    target[4:, 0:2, :] = 1
    return prediction, target


def save_nifti(path, data, affine):
    img = nib.Nifti1Image(data, affine)
    img.header.set_data_dtype(data.dtype)
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    nib.save(img, str(path))


def save_nrrd(path, data, directions, space):
    # A plain NRRD0004 header and raw data, x fastest (Fortran order of X, Y, Z).
    header = (
        "NRRD0004\n"
        "type: uint8\n"
        "dimension: 3\n"
        f"space: {space}\n"
        f"sizes: {SHAPE[0]} {SHAPE[1]} {SHAPE[2]}\n"
        "space directions: " + " ".join("(%g,%g,%g)" % tuple(d) for d in directions) + "\n"
        "kinds: domain domain domain\n"
        "encoding: raw\n"
        "space origin: (0,0,0)\n"
        "\n"
    )
    path.write_bytes(header.encode() + np.asarray(data, np.uint8).tobytes(order="F"))


def expectations(codes):
    """Screen places (radiological axial view) of the markers, from the
    anatomical codes (+x, +y, +z) of the index axes."""
    # Low x index lies opposite to where +x points; patient Right is shown on
    # the screen's left, Left on its right.
    low_x = {"R": "L", "L": "R"}[codes[0]]
    # Low y index lies opposite to +y; Anterior is shown at the top.
    low_y = {"A": "P", "P": "A"}[codes[1]]
    return {
        "tp_screen_side": "left" if low_x == "R" else "right",
        "fn_screen_half": "top" if low_y == "A" else "bottom",
        # Left, right, top, bottom edges (../shared/design/orientation.md's table):
        # the same for both affines, which differ only in where the markers lie.
        "axial_edges": "RLAP",
        "coronal_edges": "RLSI",
        "sagittal_edges": "APSI",
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    prediction, target = phantom()
    expected = {}
    ras_identity = np.eye(4)
    lps_like = np.diag([-1.0, -1.0, 1.0, 1.0])
    for name, affine in (("ras", ras_identity), ("lps", lps_like)):
        save_nifti(OUT / f"phantom_{name}_pred.nii.gz", prediction, affine)
        save_nifti(OUT / f"phantom_{name}_target.nii.gz", target, affine)
        expected[f"phantom_{name}"] = expectations(nib.aff2axcodes(affine))
    # NRRD in LPS: +x index Left, +y Posterior.
    save_nrrd(OUT / "phantom_nrrd_pred.nrrd", prediction, np.eye(3), "left-posterior-superior")
    save_nrrd(OUT / "phantom_nrrd_target.nrrd", target, np.eye(3), "left-posterior-superior")
    expected["phantom_nrrd"] = expectations(("L", "P", "S"))  # LPS space, identity directions
    (OUT / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
    print(json.dumps(expected, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
