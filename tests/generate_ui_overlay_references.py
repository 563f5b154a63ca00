#!/usr/bin/python3
"""Independent slice-overlay references for tests/ui/test_render.cpp (tests/data/ui/).

    /usr/bin/python3 tests/generate_ui_overlay_references.py

Writes a small mask pair (and a CT-like image) as .npy files, and what the
slice views must show for them, computed here with numpy from the documented
rules only (README "Error mode colours", docs/gui.md "Window / level",
"Orientation", "Display"), not from MaskLens's code or output:

* overlay_pred.npy   float32 [D, H, W] = [10, 14, 18]: soft ball at (d 5, h 7, w 11),
  p = clip(0.5 + (4.5 - r) * 0.3, 0, 1), r the distance in voxels; planted
  values exactly at the threshold (0.5), one float32 step below it, and two
  outside 0..1 (-0.25, 1.5: the dimmed grey clamps them).
* overlay_target.npy uint8 [10, 14, 18]: ball r <= 4.5 at (5, 6, 8), planted voxels.
* overlay_image.npy  int16 [10, 14, 18]: v = -300 + 29 w + 13 h + 7 d (HU-like ramp).
* overlay_expected.json: per case (axis, slice, convention, window/level,
  error opacity, with or without the image) the expected RGB of every pixel
  of the slice image, screen layout, row 0 at the BOTTOM (VTK's image order),
  and for each pixel the voxel drawn there.

The test gives the pair the geometry "spacing 0.8 x 0.8 x 2.5 mm (W, H, D),
identity directions, LPS" (a .npy has none); +w points to the patient's Left,
+h to Posterior, +d to Superior.

Rules used (threshold 0.5, decision p >= threshold, target hit t > 0.5):
* TP green #009E73, FP orange #D55E00, FN blue #56B4E9, blended over what is
  under them with the error opacity a: round_half_up(under (1 - a) + colour a).
* Under the errors: without an image, a soft prediction's probability dimmed
  to grey floor(float32(clip(p, 0, 1)) * 90) (TN voxels show it; black where
  p = 0); with an image, grey = round_half_up(clamp((v - (L - W/2)) / W, 0, 1) 255).
* Radiological convention: axial - patient Right on screen left, Anterior up;
  coronal - Right on the left, Superior up; sagittal - Anterior on the left,
  Superior up. Neurological mirrors left/right in axial and coronal.
"""

import json
import pathlib

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "data" / "ui"
D, H, W = 10, 14, 18
THRESHOLD = 0.5

TP = (0x00, 0x9E, 0x73)
FP = (0xD5, 0x5E, 0x00)
FN = (0x56, 0xB4, 0xE9)

# Planted voxels (d, h, w) on the axial slice d = 5 (and their rows/columns).
AT_THRESHOLD_FP = (5, 12, 2)     # p = 0.5 exactly, no target: FP (p >= threshold)
BELOW_THRESHOLD_TN = (5, 12, 3)  # p = 0.5 - 2^-25 (float32 below 0.5), no target: TN
AT_THRESHOLD_TP = (5, 1, 15)     # p = 0.5 exactly, target: TP
ZERO_FN = (5, 1, 16)             # p = 0, target: FN
NEGATIVE_TN = (5, 12, 5)         # p = -0.25 (not a probability), no target: TN, grey clamped to 0
ABOVE_ONE_TP = (5, 12, 6)        # p = 1.5, target: TP over the grey clamped to 90


def balls():
    d, h, w = np.meshgrid(np.arange(D), np.arange(H), np.arange(W), indexing="ij")
    r_pred = np.sqrt(((d - 5) ** 2 + (h - 7) ** 2 + (w - 11) ** 2).astype(np.float64))
    prediction = np.clip(0.5 + (4.5 - r_pred) * 0.3, 0.0, 1.0).astype(np.float32)
    r_target = np.sqrt(((d - 5) ** 2 + (h - 6) ** 2 + (w - 8) ** 2).astype(np.float64))
    target = (r_target <= 4.5).astype(np.uint8)
    for voxel in (AT_THRESHOLD_FP, BELOW_THRESHOLD_TN, AT_THRESHOLD_TP, ZERO_FN, NEGATIVE_TN, ABOVE_ONE_TP):
        assert prediction[voxel] == 0.0 and target[voxel] == 0, voxel  # planted on empty ground
    prediction[AT_THRESHOLD_FP] = np.float32(0.5)
    prediction[BELOW_THRESHOLD_TN] = np.nextafter(np.float32(0.5), np.float32(0))
    prediction[AT_THRESHOLD_TP] = np.float32(0.5)
    target[AT_THRESHOLD_TP] = 1
    target[ZERO_FN] = 1
    prediction[NEGATIVE_TN] = np.float32(-0.25)
    prediction[ABOVE_ONE_TP] = np.float32(1.5)
    target[ABOVE_ONE_TP] = 1
    image = (-300 + 29 * w + 13 * h + 7 * d).astype(np.int16)
    return prediction, target, image


def round_half_up(x):
    return np.floor(x + 0.5)


def grey_of_probability(p):
    # float32 product, truncated (both operands float32, as the dimmed background is documented).
    return (np.clip(p, np.float32(0), np.float32(1)) * np.float32(90)).astype(np.uint8)


def window_grey(v, window, level):
    fraction = np.clip((v.astype(np.float64) - (level - window / 2.0)) / window, 0.0, 1.0)
    return round_half_up(fraction * 255.0).astype(np.uint8)


def slice_of(array, axis, index):
    """The slice as [first in-plane index, second] = axial (w, h), coronal (w, d), sagittal (h, d)."""
    if axis == "axial":
        return array[index, :, :].T  # [w, h]
    if axis == "coronal":
        return array[:, index, :].T  # [w, d]
    return array[:, :, index].T      # [h, d]


def voxel_grid(axis, index):
    """[first, second, 3] array of the (d, h, w) voxel at each in-plane position."""
    d, h, w = np.meshgrid(np.arange(D), np.arange(H), np.arange(W), indexing="ij")
    return np.stack([slice_of(a, axis, index) for a in (d, h, w)], axis=-1)


def screen_placement(axis, convention):
    """(mirror first axis, mirror second axis): how the in-plane indices run on the screen.

    Screen x grows to the right, screen y upwards (row 0 at the bottom). The first
    in-plane index is across (w: towards Left; h: towards Posterior), the second
    up (h: towards Posterior; d: towards Superior)."""
    if axis == "axial":
        # Radiological: Right on the left, so Left (+w) to the right: x = w.
        # Anterior up, so Posterior (+h) downwards: y = H - 1 - h.
        return convention == "neurological", True
    if axis == "coronal":
        # Left (+w) to the right (radiological); Superior (+d) up.
        return convention == "neurological", False
    # Sagittal: Anterior on the left, so Posterior (+h) to the right; Superior up.
    return False, False


def compose(prediction, target, image, case):
    axis, index = case["axis"], case["slice"]
    p = slice_of(prediction, axis, index)
    t = slice_of(target, axis, index)
    predicted = p >= THRESHOLD
    hit = t > 0.5
    if case["image"]:
        under = window_grey(slice_of(image, axis, index), case["window"], case["level"]).astype(np.float64)
    else:
        under = grey_of_probability(p).astype(np.float64)
    rgb = np.stack([under, under, under], axis=-1)
    a = case["error_opacity"]
    for mask, colour in ((predicted & hit, TP), (predicted & ~hit, FP), (~predicted & hit, FN)):
        over = np.array(colour, np.float64)
        rgb[mask] = round_half_up(rgb[mask] * (1.0 - a) + over * a)
    rgb = rgb.astype(np.uint8)  # [first, second, 3]
    voxels = voxel_grid(axis, index)
    mirror_first, mirror_second = screen_placement(axis, case["convention"])
    if mirror_first:
        rgb, voxels = rgb[::-1, :], voxels[::-1, :]
    if mirror_second:
        rgb, voxels = rgb[:, ::-1], voxels[:, ::-1]
    # [x, y] -> rows of y (bottom first), each x from the left.
    return rgb.transpose(1, 0, 2), voxels.transpose(1, 0, 2)


CASES = [
    {"name": "axial_radiological", "axis": "axial", "slice": 5, "convention": "radiological",
     "image": False, "window": 400.0, "level": 40.0, "error_opacity": 1.0},
    {"name": "axial_half_opacity", "axis": "axial", "slice": 5, "convention": "radiological",
     "image": False, "window": 400.0, "level": 40.0, "error_opacity": 0.5},
    {"name": "axial_neurological", "axis": "axial", "slice": 5, "convention": "neurological",
     "image": False, "window": 400.0, "level": 40.0, "error_opacity": 1.0},
    {"name": "coronal_radiological", "axis": "coronal", "slice": 7, "convention": "radiological",
     "image": False, "window": 400.0, "level": 40.0, "error_opacity": 1.0},
    {"name": "coronal_neurological", "axis": "coronal", "slice": 7, "convention": "neurological",
     "image": False, "window": 400.0, "level": 40.0, "error_opacity": 1.0},
    {"name": "sagittal_radiological", "axis": "sagittal", "slice": 9, "convention": "radiological",
     "image": False, "window": 400.0, "level": 40.0, "error_opacity": 1.0},
    {"name": "axial_image_soft_tissue", "axis": "axial", "slice": 5, "convention": "radiological",
     "image": True, "window": 400.0, "level": 40.0, "error_opacity": 0.6},
    {"name": "coronal_image_narrow", "axis": "coronal", "slice": 7, "convention": "radiological",
     "image": True, "window": 150.0, "level": -20.0, "error_opacity": 0.35},
]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    prediction, target, image = balls()
    np.save(OUT / "overlay_pred.npy", prediction)
    np.save(OUT / "overlay_target.npy", target)
    np.save(OUT / "overlay_image.npy", image)
    cases = []
    for case in CASES:
        rgb, voxels = compose(prediction, target, image, case)
        height, width = rgb.shape[:2]
        entry = dict(case)
        entry["width"], entry["height"] = int(width), int(height)
        # One string per screen row (bottom first): "rrggbb" per pixel.
        entry["rows"] = ["".join("%02x%02x%02x" % tuple(int(c) for c in px) for px in row) for row in rgb]
        entry["voxels"] = [[[int(v) for v in vx] for vx in row] for row in voxels]
        cases.append(entry)
    planted = {"at_threshold_fp": AT_THRESHOLD_FP, "below_threshold_tn": BELOW_THRESHOLD_TN,
               "at_threshold_tp": AT_THRESHOLD_TP, "zero_fn": ZERO_FN, "negative_tn": NEGATIVE_TN,
               "above_one_tp": ABOVE_ONE_TP}
    document = {"generator": "tests/generate_ui_overlay_references.py", "shape_dhw": [D, H, W],
                "spacing_whd_mm": [0.8, 0.8, 2.5], "threshold": THRESHOLD,
                "planted": {k: list(v) for k, v in planted.items()}, "cases": cases}
    (OUT / "overlay_expected.json").write_text(json.dumps(document, separators=(",", ":")) + "\n")
    counts = {}
    for case in cases:
        pixels = [row[i:i + 6] for row in case["rows"] for i in range(0, len(row), 6)]
        counts[case["name"]] = {name: pixels.count("%02x%02x%02x" % c) for name, c in
                                (("tp", TP), ("fp", FP), ("fn", FN))}
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
