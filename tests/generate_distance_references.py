#!/usr/bin/python3
"""Reference values for MaskLens's surface-distance metrics (tests/distance).

Computes Hausdorff, percentile Hausdorff (three rules), ASSD and NSD with
MONAI's definitions written out in NumPy/SciPy:

  surface(M)   = M ^ scipy.ndimage.binary_erosion(M)   (face connectivity,
                 border_value=0: the outside of the image is background)
  d(x, B)      = scipy.ndimage.distance_transform_edt(~surface(B), sampling)[x]
  percentiles  = numpy.percentile (method="linear")

and writes the inputs (bit-packed masks) and the expected values as JSON into
tests/data/distance/. Also writes one squared EDT reference (float64 raw).
Run with Debian's python3 (python3-scipy, python3-numpy):

    /usr/bin/python3 tests/generate_distance_references.py

The outputs are committed so that the tests need no Python.

Subvoxel mode (--surface subvoxel) references come from DeepMind's
surface-distance package (PyPI "surface-distance", module surface_distance):
compute_surface_distances + compute_robust_hausdorff (rule max),
compute_average_surface_distance and compute_surface_dice_at_tolerance; the
pooled and mean rules and the pooled area-weighted ASSD apply the same
area-weighted definitions to those distances and areas. The package is needed
only for them; install it into a venv that sees Debian's numpy/scipy:

    /usr/bin/python3 -m venv --system-site-packages /tmp/sdvenv
    /tmp/sdvenv/bin/pip install surface-distance
    /tmp/sdvenv/bin/python tests/generate_distance_references.py

Without the package the script stops rather than drop the subvoxel references.
"""

import json
import math
import os

import numpy as np
from scipy import ndimage as ndi

try:
    import surface_distance as deepmind_sd
    from surface_distance import lookup_tables as deepmind_tables
except ImportError:  # pragma: no cover
    raise SystemExit("needs DeepMind's surface-distance package (see the docstring)")

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "distance")

# (percentile, rule, nsd tolerance in mm or None)
CONFIGS = [
    (95.0, "max", 1.0),
    (95.0, "pooled", 2.0),
    (95.0, "mean", 0.5),
    (50.0, "max", None),
    (90.0, "pooled", 1.5),
    (0.0, "max", 0.0),
    (100.0, "mean", 3.0),
]


def number(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def surface(mask):
    return mask ^ ndi.binary_erosion(mask)


def directed(a_surface, b_surface, sampling):
    count = int(a_surface.sum())
    if not b_surface.any():
        return np.full(count, np.inf)
    return ndi.distance_transform_edt(~b_surface, sampling=sampling)[a_surface]


def metrics(pred, target, sampling):
    """Expected values for every configuration; sampling in array-axis order."""
    sp, st = surface(pred), surface(target)
    d_pt = directed(sp, st, sampling)
    d_tp = directed(st, sp, sampling)
    out = []
    for p, rule, tol in CONFIGS:
        if d_pt.size == 0 and d_tp.size == 0:
            v = dict(hd=math.nan, hd_percentile=math.nan, assd=math.nan, nsd=math.nan)
        elif d_pt.size == 0 or d_tp.size == 0:
            v = dict(hd=math.inf, hd_percentile=math.inf, assd=math.inf, nsd=0.0 if tol is not None else math.nan)
        else:
            both = np.concatenate([d_pt, d_tp])
            p_pt = np.percentile(d_pt, p)
            p_tp = np.percentile(d_tp, p)
            if rule == "max":
                hp = max(p_pt, p_tp)
            elif rule == "mean":
                hp = (p_pt + p_tp) / 2
            else:
                hp = np.percentile(both, p)
            nsd = math.nan if tol is None else (np.sum(d_pt <= tol) + np.sum(d_tp <= tol)) / both.size
            v = dict(hd=max(d_pt.max(), d_tp.max()), hd_percentile=hp, assd=both.mean(), nsd=nsd)
        out.append({k: number(x) for k, x in v.items()})
    return {"pred_surface": int(sp.sum()), "target_surface": int(st.sum()), "configs": out}


def weighted_percentile(distances, areas, p):
    """compute_robust_hausdorff's rule for one direction (or a pooled list)."""
    order = sorted(zip(distances, areas))
    d = np.array([x[0] for x in order])
    a = np.array([x[1] for x in order])
    cum = np.cumsum(a) / np.sum(a)
    idx = np.searchsorted(cum, p / 100.0)
    return d[min(idx, len(d) - 1)]


def subvoxel_metrics(pred, target, sampling):
    """Subvoxel (DeepMind) values for every configuration."""
    sd = deepmind_sd.compute_surface_distances(target, pred, list(sampling))
    d_tp, a_t = sd["distances_gt_to_pred"], sd["surfel_areas_gt"]
    d_pt, a_p = sd["distances_pred_to_gt"], sd["surfel_areas_pred"]
    out = []
    for p, rule, tol in CONFIGS:
        if d_pt.size == 0 and d_tp.size == 0:
            v = dict(hd=math.nan, hd_percentile=math.nan, assd=math.nan, nsd=math.nan)
        elif d_pt.size == 0 or d_tp.size == 0:
            v = dict(hd=math.inf, hd_percentile=math.inf, assd=math.inf, nsd=0.0 if tol is not None else math.nan)
        else:
            p_pt = weighted_percentile(d_pt, a_p, p)
            p_tp = weighted_percentile(d_tp, a_t, p)
            if rule == "max":
                hp = deepmind_sd.compute_robust_hausdorff(sd, p)
                assert hp == max(p_pt, p_tp)
            elif rule == "mean":
                hp = (p_pt + p_tp) / 2
            else:
                hp = weighted_percentile(np.concatenate([d_pt, d_tp]), np.concatenate([a_p, a_t]), p)
            nsd = math.nan if tol is None else deepmind_sd.compute_surface_dice_at_tolerance(sd, tol)
            assd = (np.sum(d_pt * a_p) + np.sum(d_tp * a_t)) / (np.sum(a_p) + np.sum(a_t))
            v = dict(hd=max(d_pt.max(), d_tp.max()), hd_percentile=hp, assd=assd, nsd=nsd)
        out.append({k: number(x) for k, x in v.items()})
    mean_tp, mean_pt = deepmind_sd.compute_average_surface_distance(sd)
    return {
        "pred_surfels": int(d_pt.size),
        "target_surfels": int(d_tp.size),
        "pred_area": number(np.sum(a_p)),
        "target_area": number(np.sum(a_t)),
        "mean_pred_to_target": number(mean_pt),
        "mean_target_to_pred": number(mean_tp),
        "configs": out,
    }


def save_bits(name, mask):
    np.packbits(mask.astype(bool).ravel(order="C")).tofile(os.path.join(OUT, name))
    return name


def blobs(rng, shape, sigma, level):
    field = ndi.gaussian_filter(rng.standard_normal(shape), sigma)
    return field > level * field.std()


def ellipsoid(shape, sampling, centre_mm, radius_mm):
    grids = np.meshgrid(*[np.arange(n) * s for n, s in zip(shape, sampling)], indexing="ij")
    r2 = sum((g - c) ** 2 for g, c in zip(grids, centre_mm))
    return r2 <= radius_mm ** 2


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240605)
    cases = []

    def add(name, pred, target, spacing_xyz, slices=False):
        pred = pred.astype(bool)
        target = target.astype(bool)
        spatial_dims = pred.ndim
        dims = [1] + list(pred.shape) if spatial_dims == 2 else list(pred.shape)
        sampling = tuple(reversed(spacing_xyz[:spatial_dims]))  # array-axis order
        case = {
            "name": name,
            "dims": dims,
            "spatial_dims": spatial_dims,
            "spacing_xyz": list(spacing_xyz) + [1.0] * (3 - len(spacing_xyz)),
            "pred": save_bits(name + ".pred.bits", pred),
            "target": save_bits(name + ".target.bits", target),
            "expected": metrics(pred, target, sampling),
            "subvoxel": subvoxel_metrics(pred, target, sampling),
        }
        if slices:
            per_axis = {}
            for axis, label in enumerate("DHW"):
                in_plane = tuple(s for a, s in enumerate(sampling) if a != axis)
                values = []
                for i in range(pred.shape[axis]):
                    values.append(metrics(np.take(pred, i, axis=axis), np.take(target, i, axis=axis), in_plane))
                per_axis[label] = values
            case["slices"] = per_axis
            # Subvoxel per-slice references along D (2D, in-plane spacing).
            case["subvoxel_slices_D"] = [
                subvoxel_metrics(pred[i], target[i], sampling[1:]) for i in range(pred.shape[0])
            ]
        cases.append(case)

    # 3D random blobs, anisotropic spacing, touching the image border.
    shape = (18, 26, 22)
    add("blobs3d", blobs(rng, shape, 2.0, 0.2), blobs(rng, shape, 2.0, 0.1), [0.8, 0.8, 1.5], slices=True)
    # 3D noise: huge surfaces, many ties.
    shape = (12, 14, 16)
    add("noise3d", rng.random(shape) < 0.4, rng.random(shape) < 0.5, [1.0, 0.7, 2.0], slices=True)
    # 3D sphere-like masks with spacing, offset centres and a few flipped voxels.
    shape = (30, 44, 40)
    sampling = (1.5, 0.8, 0.8)
    pred = ellipsoid(shape, sampling, (22.0, 17.0, 16.0), 11.0)
    target = ellipsoid(shape, sampling, (21.0, 18.5, 15.2), 12.3)
    flips = rng.random(shape) < 0.002
    pred ^= flips
    add("spheres3d", pred, target, [0.8, 0.8, 1.5], slices=True)
    # Sphere far away from a small cube, small isotropic-but-not-1 spacing.
    shape = (24, 24, 24)
    cube = np.zeros(shape, bool)
    cube[2:5, 3:6, 18:22] = True
    add("sphere_cube3d", ellipsoid(shape, (0.5, 0.5, 0.5), (7.0, 6.0, 5.0), 3.2), cube, [0.5, 0.5, 0.5])
    # 2D cases.
    shape = (64, 72)
    add("blobs2d", blobs(rng, shape, 3.0, 0.3), blobs(rng, shape, 3.0, 0.0), [0.7, 1.3])
    add("noise2d", rng.random((40, 50)) < 0.3, rng.random((40, 50)) < 0.6, [1.1, 0.9])
    disk_p = ellipsoid((50, 60), (0.9, 0.6), (20.0, 18.0), 12.0)
    disk_t = ellipsoid((50, 60), (0.9, 0.6), (23.0, 20.0), 10.0)
    add("disks2d", disk_p, disk_t, [0.6, 0.9])
    # Empty masks.
    empty = np.zeros((10, 12, 14), bool)
    some = blobs(rng, (10, 12, 14), 1.5, 0.2)
    add("pred_empty3d", empty, some, [1.0, 2.0, 3.0])
    add("target_empty3d", some, empty, [1.0, 2.0, 3.0])
    add("both_empty3d", empty, empty, [1.0, 2.0, 3.0])
    # A 3D image one slice thick: every voxel is surface (6-connectivity).
    add("thin3d", blobs(rng, (1, 30, 30), 2.0, 0.0), blobs(rng, (1, 30, 30), 2.0, 0.2), [0.5, 0.75, 2.0])

    # A squared EDT reference: random sparse features, anisotropic spacing.
    edt_shape = (17, 23, 19)
    edt_spacing_xyz = [0.7, 1.9, 1.3]
    features = rng.random(edt_shape) < 0.01
    features[0, 0, 0] = True
    edt = ndi.distance_transform_edt(~features, sampling=tuple(reversed(edt_spacing_xyz)))
    (edt.astype("<f8") ** 2).tofile(os.path.join(OUT, "edt.expected.f64"))
    save_bits("edt.features.bits", features)

    # DeepMind's surfel-size lookup tables (array-axis spacing), to check the
    # engine's own marching-cubes tables code by code.
    tables = []
    for spacing in [(1.0, 1.0, 1.0), (1.5, 0.8, 0.8), (0.7, 1.3, 2.1)]:
        tables.append({"spacing": list(spacing),
                       "areas": [float(x) for x in deepmind_tables.create_table_neighbour_code_to_surface_area(spacing)]})
    for spacing in [(1.0, 1.0), (0.9, 0.6), (1.3, 0.7)]:
        tables.append({"spacing": list(spacing),
                       "areas": [float(x) for x in deepmind_tables.create_table_neighbour_code_to_contour_length(spacing)]})

    with open(os.path.join(OUT, "references.json"), "w") as f:
        json.dump(
            {
                "generator": "tests/generate_distance_references.py",
                "numpy": np.__version__,
                "configs": [{"percentile": p, "rule": r, "tolerance": t} for p, r, t in CONFIGS],
                "cases": cases,
                "subvoxel_tables": tables,
                "edt": {
                    "dims": list(edt_shape),
                    "spacing_xyz": edt_spacing_xyz,
                    "features": "edt.features.bits",
                    "expected": "edt.expected.f64",
                },
            },
            f,
            indent=1,
        )


if __name__ == "__main__":
    main()
