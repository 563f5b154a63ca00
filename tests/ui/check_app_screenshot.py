#!/usr/bin/python3
"""End-to-end check of `masklens --screenshot` (CTest: test_ui_app_screenshot).

    check_app_screenshot.py MASKLENS_BINARY PRED TARGET OUTPUT.png

Runs the app on a NIfTI pair, lets it save its window, and checks what the
picture shows against the masks, read here with nibabel (no MaskLens code):

* the views: the columns and rows where the views' background colour
  (20, 20, 23) is common span the 2 x 2 grid; every quarter of it is a view that shows
  something (background and other pixels both present);
* the three slice views at the grid's centre voxel (where the app puts the
  cursor on opening): for each error class, the pixels in its documented
  colour (TP #009E73, FP #D55E00, FN #56B4E9) cover the area its voxels cover
  on that slice (scale taken from the TP pixels, FP and FN within 25 % + 20 px),
  and the FP and FN centres lie where the radiological convention puts them
  relative to TP's (within 10 % of the offset + 4 px)
  (axial: patient Right on the left, Anterior up; coronal: Right on the left,
  Superior up; sagittal: Anterior on the left, Superior up), derived from the
  file's affine with nibabel.aff2axcodes;
* the 3D view (lower right) shows TP-coloured (shaded) surface pixels;
* the side panel (right of the views) is not blank: text-dark pixels and more
  than one colour. No OCR: the numbers in it are checked by test_ui_widgets
  and test_ui_presenter against the engine.

Exit 0 when all hold, 1 otherwise (each failure printed), 77 (CTest's skip
code for this test) when numpy, nibabel or PIL are missing.
"""

import subprocess
import sys

try:
    import nibabel as nib
    import numpy as np
    from PIL import Image
except ImportError as error:  # pragma: no cover - depends on the machine
    print("skipped: %s" % error)
    sys.exit(77)

BACKGROUND = np.array([20, 20, 23])
COLOURS = {"tp": (0x00, 0x9E, 0x73), "fp": (0xD5, 0x5E, 0x00), "fn": (0x56, 0xB4, 0xE9)}
THRESHOLD = 0.5
failures = []


def check(condition, message):
    print(("ok:   " if condition else "FAIL: ") + message)
    if not condition:
        failures.append(message)


def near(image, colour, tolerance):
    return np.all(np.abs(image.astype(int) - np.array(colour)) <= tolerance, axis=-1)


def screen_axes(affine, axis):
    """For a slice view: (voxel axis across, sign, voxel axis up, sign, mm across, mm up).

    Screen x grows to the right, screen y DOWN (image rows). Derived from the
    anatomical direction each voxel axis points to (nibabel.aff2axcodes) and the
    radiological layout."""
    codes = nib.aff2axcodes(affine)  # per voxel axis i, j, k: the letter it points towards
    zooms = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    # Screen direction of each anatomical letter: +1 right / down, -1 left / up.
    if axis == "axial":       # Right on the left, Anterior up
        across = {"L": 1, "R": -1}
        up = {"P": 1, "A": -1}
    elif axis == "coronal":   # Right on the left, Superior up
        across = {"L": 1, "R": -1}
        up = {"I": 1, "S": -1}
    else:                     # sagittal: Anterior on the left, Superior up
        across = {"P": 1, "A": -1}
        up = {"I": 1, "S": -1}
    result = {}
    for voxel_axis, letter in enumerate(codes):
        if letter in across:
            result["x"] = (voxel_axis, across[letter], zooms[voxel_axis])
        if letter in up:
            result["y"] = (voxel_axis, up[letter], zooms[voxel_axis])
    return result


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    binary, pred_path, target_path, output = sys.argv[1:]
    run = subprocess.run([binary, "--screenshot", output, pred_path, target_path],
                         capture_output=True, text=True, timeout=150)
    check(run.returncode == 0,
          "masklens --screenshot exits 0 (%d; %s)" % (run.returncode, run.stderr.strip()[-300:]))
    if run.returncode != 0:
        return 1
    shot = np.asarray(Image.open(output).convert("RGB"))
    height, width = shot.shape[:2]
    print("screenshot %d x %d" % (width, height))

    # The views: the columns and rows where the views' background colour is
    # common (a few dark text pixels elsewhere may match it too).
    background = near(shot, BACKGROUND, 2)
    check(background.mean() > 0.05, "views' background present (%d px)" % background.sum())
    xs = np.nonzero(background.mean(axis=0) > 0.1)[0]
    if len(xs) == 0:
        return 1
    x0, x1 = xs.min(), xs.max() + 1
    ys = np.nonzero(background[:, x0:x1].mean(axis=1) > 0.1)[0]
    y0, y1 = ys.min(), ys.max() + 1
    check(x1 - x0 > 0.4 * width and y1 - y0 > 0.6 * height,
          "the view grid spans %d..%d x %d..%d of the window" % (x0, x1, y0, y1))
    mx, my = (x0 + x1) // 2, (y0 + y1) // 2
    margin = 4
    quarters = {"axial": (x0, mx, y0, my), "coronal": (mx, x1, y0, my),
                "sagittal": (x0, mx, my, y1), "3d": (mx, x1, my, y1)}
    for name, (a, b, c, d) in quarters.items():
        region = background[c + margin:d - margin, a + margin:b - margin]
        share = region.mean()
        check(0.02 < share < 0.98,
              "%s view: background %.0f %% of its quarter, the rest drawn" % (name, share * 100))

    # The slice views against the masks.
    pred_image = nib.load(pred_path)
    prediction = np.asanyarray(pred_image.dataobj) >= THRESHOLD
    target = np.asanyarray(nib.load(target_path).dataobj) > 0.5
    shape = prediction.shape  # i, j, k
    centre = [n // 2 for n in shape]  # the app's cursor after opening: the grid's centre voxel
    fixed = {"axial": 2, "coronal": 1, "sagittal": 0}
    for name in ("axial", "coronal", "sagittal"):
        axis = fixed[name]
        index = [slice(None)] * 3
        index[axis] = centre[axis]
        p, t = prediction[tuple(index)], target[tuple(index)]
        in_plane = [a for a in range(3) if a != axis]
        classes = {"tp": p & t, "fp": p & ~t, "fn": ~p & t}
        layout = screen_axes(pred_image.affine, name)
        a, b, c, d = quarters[name]
        region = shot[c:d, a:b]
        voxel_mm2 = np.prod([np.sqrt((pred_image.affine[:3, v] ** 2).sum()) for v in in_plane])
        measured = {}
        for cls, mask in classes.items():
            hits = near(region, COLOURS[cls], 3)
            rows, cols = np.nonzero(hits)
            voxels = np.argwhere(mask)  # columns: the two in-plane voxel axes, in order
            measured[cls] = (len(rows), cols.mean() if len(rows) else np.nan,
                             rows.mean() if len(rows) else np.nan, len(voxels),
                             voxels.mean(axis=0) if len(voxels) else None)
        tp_pixels, tp_x, tp_y, tp_voxels, tp_centre = measured["tp"]
        check(tp_pixels > 100 and tp_voxels > 0,
              "%s: TP pixels %d for %d TP voxels" % (name, tp_pixels, tp_voxels))
        if tp_pixels <= 100 or tp_voxels == 0:
            continue
        pixels_per_mm = np.sqrt(tp_pixels / (tp_voxels * voxel_mm2))
        print("%s: %.2f px/mm from the TP area" % (name, pixels_per_mm))
        for cls in ("fp", "fn"):
            pixels, x, y, voxels, voxel_centre = measured[cls]
            expected = voxels * voxel_mm2 * pixels_per_mm ** 2
            check(voxels == 0 and pixels == 0 or
                  voxels > 0 and abs(pixels - expected) <= 0.25 * expected + 20,
                  "%s: %s pixels %d, expected %.0f (%d voxels)"
                  % (name, cls.upper(), pixels, expected, voxels))
            if voxels == 0 or pixels == 0:
                continue
            # The centre's offset from the TP centre, in pixels, predicted from the voxels.
            offset = {}
            for screen in ("x", "y"):
                voxel_axis, sign, mm = layout[screen]
                column = in_plane.index(voxel_axis)
                offset[screen] = sign * (voxel_centre[column] - tp_centre[column]) * mm * pixels_per_mm
            dx, dy = x - tp_x, y - tp_y
            tolerance = 0.1 * np.hypot(offset["x"], offset["y"]) + 4
            check(abs(dx - offset["x"]) <= tolerance and abs(dy - offset["y"]) <= tolerance,
                  "%s: %s centre %+.1f, %+.1f px from the TP centre, expected %+.1f, %+.1f (+- %.1f)"
                  % (name, cls.upper(), dx, dy, offset["x"], offset["y"], tolerance))

    # The 3D view: shaded TP surface (chromaticity near TP's).
    a, b, c, d = quarters["3d"]
    region = shot[c:d, a:b].astype(float)
    total = region.sum(axis=-1, keepdims=True)
    lit = region.max(axis=-1) >= 40
    tp_chroma = np.array(COLOURS["tp"], float) / sum(COLOURS["tp"])
    surface = lit & np.all(np.abs(region / np.maximum(total, 1) - tp_chroma) <= 0.07, axis=-1)
    check(surface.sum() > 1000, "3d view: %d TP-shaded pixels" % surface.sum())

    # The side panel, right of the views.
    panel = shot[:, x1 + 8:].reshape(-1, 3)
    check(panel.shape[0] > 0.1 * width * height, "side panel %d px wide" % (width - x1 - 8))
    if panel.shape[0]:
        values, counts = np.unique(panel, axis=0, return_counts=True)
        dominant = counts.max() / panel.shape[0]
        dark = (panel.max(axis=1) < 90).mean()
        check(dominant < 0.97 and dark > 0.003 and len(values) > 20,
              "side panel not blank: dominant colour %.0f %%, %d colours, text-dark %.1f %%"
              % (dominant * 100, len(values), dark * 100))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
