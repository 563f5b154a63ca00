#!/usr/bin/python3
"""Label colour files and references for tests/ui/test_labels.cpp (tests/data/labels/).

    /usr/bin/python3 tests/generate_label_fixtures.py

Writes an ITK-SNAP label description file and a 3D Slicer colour table for
the bundled label-map sample (resources/samples/labels_*.nii.gz, labels 1..3),
files with one defect each (the test expects an error naming the file and
the line given here), and expected.json: the colours and names as written,
and each label's hard Dice (2 |P & T| / (|P| + |T|), numpy) and per-slice
Dice along the third array axis (nibabel's Z; MaskLens' D) for the sample.
"""

import json
import pathlib

import nibabel as nib
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "data" / "labels"
SAMPLES = HERE.parent / "resources" / "samples"

ITKSNAP = """################################################
# ITK-SnAP Label Description File
# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL
################################################
    0     0    0    0        0  0  0    "Clear Label"
    1   200   30   40        1  1  1    "liver"
    2    20  180   60     0.50  1  1    "right kidney"
    3    30   60  220        1  0  0    "tumour"
"""

SLICER = """# Color table file for the labels sample
# 4 values
0 Background 0 0 0 0
1 liver 200 30 40 255
2 right_kidney 20 180 60 128
3 tumour 30 60 220 255
"""

# name -> (text, line of the defect, words the message must contain)
BAD = {
    "bad_colour.txt": ('    1   300  0  0  1  1  1  "too red"\n', 1, "red"),
    "bad_number.txt": ("# comment\n1 liver 200 x 40 255\n", 2, "green"),
    "bad_fields.txt": ("1 liver 200 30\n", 1, "fields"),
    "bad_quote.txt": ('    1   200  30  40  1  1  1  "liver\n', 1, "quote"),
    "bad_repeat.txt": ("1 liver 200 30 40 255\n\n1 again 1 2 3 255\n", 3, "twice"),
    "bad_alpha.txt": ('    1   200  30  40  1.5  1  1  "liver"\n', 1, "alpha"),
    "bad_empty.txt": ("# only comments\n\n", 0, "no labels"),
}


def dice(p, t):
    s = np.count_nonzero(p) + np.count_nonzero(t)
    return None if s == 0 else 2 * np.count_nonzero(p & t) / s


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "itksnap.txt").write_text(ITKSNAP)
    (OUT / "slicer.ctbl").write_text(SLICER)
    for name, (text, _, _) in BAD.items():
        (OUT / name).write_text(text)
    target = np.asarray(nib.load(str(SAMPLES / "labels_target.nii.gz")).dataobj)
    pred = np.asarray(nib.load(str(SAMPLES / "labels_pred.nii.gz")).dataobj)
    labels = {}
    for lab in (1, 2, 3):
        p, t = pred == lab, target == lab
        labels[str(lab)] = {
            "dice": dice(p, t),
            "slice_dice": [dice(p[:, :, z], t[:, :, z]) for z in range(t.shape[2])],
        }
    expected = {
        "entries": [
            {"value": 0, "name": "Clear Label", "rgb": [0, 0, 0], "opacity": 0.0, "visible": False},
            {"value": 1, "name": "liver", "rgb": [200, 30, 40], "opacity": 1.0, "visible": True},
            {"value": 2, "name": "right kidney", "rgb": [20, 180, 60], "opacity": 0.5, "visible": True},
            {"value": 3, "name": "tumour", "rgb": [30, 60, 220], "opacity": 1.0, "visible": False},
        ],
        "slicer_opacity_2": 128 / 255,
        "bad": {name: {"line": line, "words": words} for name, (_, line, words) in BAD.items()},
        "labels_sample": labels,
    }
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    print({k: v["dice"] for k, v in labels.items()})


if __name__ == "__main__":
    main()
