#!/usr/bin/python3
"""MaskLens vs plastimatch on sphere-like masks (issue 5, Benchmark).

Writes two offset sphere-like masks (N^3, spacing 0.8 x 0.8 x 1.5 mm, like
bench/bench_surface_distance.cpp) as .nii.gz with nibabel, then times, on the
same files in one run:
  plastimatch dice --all TARGET PRED
  masklens-cli evaluate PRED TARGET --metrics dice,hd,hd95,assd --format json
  the same with --no-slices (per-sample values only: plastimatch's work)
(wall clock, best of --repeat runs) and prints both tools' values side by side.

    /usr/bin/python3 bench/plastimatch_compare.py --cli build/distance/app/cli/masklens-cli \
        --sizes 256 512 --repeat 3 1
"""
import argparse, json, os, re, subprocess, sys, tempfile, time

import nibabel as nib
import numpy as np

SPACING = (0.8, 0.8, 1.5)  # x, y, z mm


def spheres(n):
    # Array [x, y, z] for NIfTI (x fastest on disk after nibabel's F order).
    c = n / 2.0
    r = 0.28 * n
    x = (np.arange(n) - c) * SPACING[0]
    y = (np.arange(n) - c) * SPACING[1]
    z = (np.arange(n) - c) * SPACING[2]
    X, Y, Z = np.meshgrid(x, y, z, indexing="ij", sparse=True)
    pred = X * X + Y * Y + Z * Z <= r * r
    X2, Y2, Z2 = X - 3 * SPACING[0], Y + 2 * SPACING[1], Z - SPACING[2]
    target = X2 * X2 + Y2 * Y2 + Z2 * Z2 <= 1.1025 * r * r
    return pred.astype(np.uint8), target.astype(np.uint8)


def save(mask, path):
    img = nib.Nifti1Image(mask, np.diag([SPACING[0], SPACING[1], SPACING[2], 1.0]))
    img.header.set_zooms(SPACING)
    nib.save(img, path)


def timed(cmd, repeat):
    best, out = None, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
        best = dt if best is None else min(best, dt)
        out = proc.stdout
    return best, out


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def plastimatch_values(text):
    vals = {}
    for line in text.splitlines():
        m = re.match(r"\s*([A-Za-z][A-Za-z0-9 ().%\-]*?)\s*[:=]\s*([-+0-9.eE]+|nan|inf)\s*$", line)
        if m:
            vals[m.group(1).strip()] = float(m.group(2))
    return vals


def masklens_values(text):
    doc = json.loads(text)
    found = {}

    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if k in ("dice", "hd", "hd95", "assd") and isinstance(v, (int, float)) and k not in found:
                    found[k] = v
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    # Prefer the per-sample/overall block: the first occurrence in document order.
    walk(doc.get("batch", doc))
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="build/distance/app/cli/masklens-cli")
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--repeat", type=int, nargs="+", default=[3, 1])
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="masklens_plastimatch_")
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')}  nproc={os.cpu_count()}  workdir={work}")
    for i, n in enumerate(args.sizes):
        repeat = args.repeat[min(i, len(args.repeat) - 1)]
        pred, target = spheres(n)
        pp, tp = os.path.join(work, f"pred{n}.nii.gz"), os.path.join(work, f"target{n}.nii.gz")
        save(pred, pp)
        save(target, tp)
        del pred, target
        print(f"\n## {n}^3, spacing {SPACING} mm, best of {repeat}")
        load0 = load()
        t_pm, out_pm = timed(["plastimatch", "dice", "--all", tp, pp], repeat)
        load1 = load()
        t_ml, out_ml = timed([args.cli, "evaluate", pp, tp, "--metrics", "dice,hd,hd95,assd", "--format", "json"],
                             repeat)
        load2 = load()
        # The same work as plastimatch (per-sample values only, no per-slice ones).
        t_ml_lean, _ = timed([args.cli, "evaluate", pp, tp, "--metrics", "dice,hd,hd95,assd", "--no-slices",
                              "--format", "json"], repeat)
        # Floors: reading both .nii.gz files + Dice only, same repeat count.
        t_pm0, _ = timed(["plastimatch", "dice", tp, pp], repeat)
        t_ml0, _ = timed([args.cli, "evaluate", pp, tp, "--metrics", "dice", "--format", "json"], repeat)
        load3 = load()
        print(f"plastimatch dice --all : {t_pm:8.2f} s   (loadavg before {load0}, after {load1})")
        print(f"masklens-cli evaluate  : {t_ml:8.2f} s   (loadavg after {load2})")
        print(f"speed-up               : {t_pm / t_ml:8.1f} x   (masklens also computes every slice's values)")
        print(f"masklens --no-slices   : {t_ml_lean:8.2f} s   speed-up {t_pm / t_ml_lean:.1f} x"
              "   (per-sample values only, as plastimatch)")
        print(f"Dice only (read + Dice): plastimatch {t_pm0:.2f} s, masklens {t_ml0:.2f} s  (loadavg after {load3})")
        print(f"distance part (total - Dice only): plastimatch {t_pm - t_pm0:.2f} s, masklens {t_ml - t_ml0:.2f} s"
              f" -> {(t_pm - t_pm0) / max(t_ml - t_ml0, 1e-9):.1f} x")
        pm, ml = plastimatch_values(out_pm), masklens_values(out_ml)
        # Like-for-like HD95 rule (untimed): plastimatch averages the two directed percentiles.
        _, out_mean = timed([args.cli, "evaluate", pp, tp, "--metrics", "hd95", "--hd-rule", "mean",
                             "--format", "json"], 1)
        ml_mean = masklens_values(out_mean)
        print("\nplastimatch output:")
        print(out_pm.strip())
        print("\nmasklens values:", json.dumps(ml))
        rows = [
            ("Dice", ml.get("dice"), pm.get("DICE")),
            ("HD (max)", ml.get("hd"), pm.get("Hausdorff distance (boundary)")),
            ("HD95 (rule max)", ml.get("hd95"), pm.get("Percent (0.95) Hausdorff distance (boundary)")),
            ("HD95 (rule mean)", ml_mean.get("hd95"), pm.get("Percent (0.95) Hausdorff distance (boundary)")),
            ("ASSD / avg-avg HD", ml.get("assd"), pm.get("Avg average Hausdorff distance (boundary)")),
        ]
        print(f"\n{'metric':<20} {'masklens':>12} {'plastimatch (boundary)':>24}")
        for name, a, b in rows:
            fa = "-" if a is None else f"{a:.6f}"
            fb = "-" if b is None else f"{b:.6f}"
            print(f"{name:<20} {fa:>12} {fb:>24}")


if __name__ == "__main__":
    main()
