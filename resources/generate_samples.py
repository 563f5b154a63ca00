#!/usr/bin/python3
"""Bundled sample data for MaskLens (resources/samples/).

    /usr/bin/python3 resources/generate_samples.py [--out DIR]

Writes the seed notebook's examples as .npy (identical to tests/data/seed/) and
synthetic NIfTI pairs: an organ-like 3D mask with a smoothed, imperfect
probability prediction, and a small label-map pair. Deterministic (fixed seeds;
nibabel writes gzip with mtime 0), so reruns give identical bytes.
"""

import argparse
import pathlib

import nibabel as nib
import numpy as np
import scipy.ndimage as ndi

f32 = np.float32

# The seed notebook's examples (same values as tests/generate_golden.py).
SEEDS = {
    "seed_2d": (
        [[[[0, 1, 0, 1], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0]]],
         [[[0, 1, 1, 0], [1, 0, 0, 1], [0, 1, 1, 0], [1, 1, 0, 0]]]],
        [[[[0, 1, 0, 1], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0]]],
         [[[1, 1, 1, 0], [1, 0, 0, 1], [0, 1, 0, 0], [1, 1, 0, 0]]]],
    ),
    "seed_3d": (
        [[[[[0, 1, 1], [1, 0, 0], [0, 1, 0]], [[1, 1, 0], [0, 1, 0], [1, 0, 1]]]]],
        [[[[[0, 1, 1], [1, 0, 0], [0, 1, 0]], [[1, 1, 0], [1, 1, 0], [1, 0, 1]]]]],
    ),
    "seed_prob": ([[[[0.1, 0.9, 0.8, 0.3]]]], [[[[0, 1, 1, 1]]]]),
}


def affine_for(spacing, origin):
    a = np.diag([spacing[0], spacing[1], spacing[2], 1.0])
    a[:3, 3] = origin
    return a


def save_nifti(path, data, affine):
    img = nib.Nifti1Image(data, affine)
    img.header.set_data_dtype(data.dtype)
    img.header.set_xyzt_units("mm")
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    nib.save(img, str(path))


def world_grid(shape, spacing, origin):
    """Physical coordinates (mm) of each voxel centre, arrays in X,Y,Z order."""
    axes = [origin[k] + spacing[k] * np.arange(shape[k]) for k in range(3)]
    return np.meshgrid(*axes, indexing="ij")


def ellipsoid(grid, centre, radii):
    """1 - normalised squared radius: > 0 inside the ellipsoid."""
    x, y, z = grid
    return 1 - (((x - centre[0]) / radii[0]) ** 2 + ((y - centre[1]) / radii[1]) ** 2 +
                ((z - centre[2]) / radii[2]) ** 2)


def smooth_noise(rng, shape, sigma):
    n = ndi.gaussian_filter(rng.standard_normal(shape), sigma=sigma, mode="reflect")
    return n / n.std()


def organ_pair(out):
    shape = (128, 128, 96)                # X, Y, Z voxels
    spacing = (0.8, 0.8, 2.5)             # mm
    origin = (-51.2, -51.2, -120.0)       # mm, voxel (0,0,0) centre
    affine = affine_for(spacing, origin)
    grid = world_grid(shape, spacing, origin)
    rng = np.random.default_rng(20240601)

    # Organ: union of three overlapping ellipsoids (mm) with a bumpy boundary.
    lobes = [((-8, 4, -10), (26, 20, 55)),
             ((14, -4, 5), (20, 16, 42)),
             ((-2, 12, 25), (18, 14, 30))]
    field = np.max([ellipsoid(grid, c, r) for c, r in lobes], axis=0)
    bumps = smooth_noise(rng, shape, sigma=(6, 6, 2.5))
    organ = field + 0.12 * bumps > 0
    # A small second structure (e.g. a lesion-sized nodule) outside the organ.
    nodule = ellipsoid(grid, (32, 30, -60), (6, 5.5, 9)) + 0.1 * bumps > 0
    target = (organ | nodule).astype(np.uint8)

    # Prediction: shifted, eroded organ, a missed region, a false-positive blob,
    # a slightly shrunken nodule; smoothed into probabilities.
    pred = ndi.shift(organ.astype(np.uint8), shift=(2, -1, 1), order=0)
    pred = ndi.binary_erosion(pred, iterations=1)
    missed = ellipsoid(grid, (20, -10, 30), (12, 10, 18)) > 0
    pred &= ~missed
    false_positive = ellipsoid(grid, (-34, -30, 40), (7, 6, 12)) + 0.1 * bumps > 0
    pred |= false_positive
    pred |= ellipsoid(grid, (32, 30, -60), (5, 4.5, 7.5)) + 0.1 * bumps > 0
    prob = ndi.gaussian_filter(pred.astype(np.float64), sigma=(1.6, 1.6, 0.6))
    prob = np.clip(np.round(prob * 255) / 255, 0, 1).astype(f32)  # 1/255 steps

    save_nifti(out / "organ_target.nii.gz", target, affine)
    save_nifti(out / "organ_pred.nii.gz", prob, affine)
    organ_ct(out, grid, affine, target)
    return target, prob


def organ_ct(out, grid, affine, target):
    """A CT-like image (int16, Hounsfield units) on the organ pair's grid, so
    the app opens on anatomy: air around an elliptic body with a fat rim, soft
    tissue, the organ slightly brighter, a vertebra posterior (RAS: -y) and a
    lung-like air region on the patient's right (RAS: +x) above the organ, so
    left/right and anterior/posterior can be told apart on screen."""
    x, y, z = grid
    rng = np.random.default_rng(20240603)
    body = (x / 49.0) ** 2 + ((y - 2.0) / 44.0) ** 2 < 1
    inner = (x / 45.0) ** 2 + ((y - 2.0) / 40.0) ** 2 < 1
    hu = np.full(x.shape, -1000.0)
    hu[body] = -100.0                              # subcutaneous fat
    hu[inner] = 35.0                               # soft tissue
    hu[target > 0] = 70.0                          # the organ (enhancing)
    vertebra = (x / 9.0) ** 2 + ((y + 33.0) / 8.0) ** 2 < 1
    hu[vertebra] = 250.0                           # cancellous bone
    cortex = vertebra & ~((x / 7.0) ** 2 + ((y + 33.0) / 6.0) ** 2 < 1)
    hu[cortex] = 900.0                             # cortical bone
    lung = ((x - 26.0) / 16.0) ** 2 + ((y - 6.0) / 22.0) ** 2 + ((z - 80.0) / 45.0) ** 2 < 1
    hu[lung & inner & (target == 0)] = -850.0
    texture = ndi.gaussian_filter(rng.standard_normal(x.shape), sigma=(2.0, 2.0, 0.8))
    hu += np.round(texture / texture.std() * 2.0) * 4.0  # smooth mottle in 4 HU steps (compresses well)
    ct = np.clip(np.round(hu), -1024, 3071).astype(np.int16)
    save_nifti(out / "organ_ct.nii.gz", ct, affine)


def labels_pair(out):
    shape = (64, 64, 32)
    spacing = (1.5, 1.5, 3.0)
    origin = (-48.0, -48.0, -48.0)
    affine = affine_for(spacing, origin)
    grid = world_grid(shape, spacing, origin)
    rng = np.random.default_rng(20240602)
    bumps = smooth_noise(rng, shape, sigma=(4, 4, 2))

    def structures(offset, scale, label3_radius):
        ox, oy, oz = offset
        lab = np.zeros(shape, np.uint8)
        lab[ellipsoid(grid, (-6 + ox, 0 + oy, 0 + oz), (26 * scale, 20 * scale, 30 * scale)) + 0.1 * bumps > 0] = 1
        lab[ellipsoid(grid, (8 + ox, 6 + oy, 6 + oz), (10 * scale, 8 * scale, 14 * scale)) + 0.1 * bumps > 0] = 2
        lab[ellipsoid(grid, (30 + ox, -28 + oy, -20 + oz), (label3_radius,) * 3) > 0] = 3
        return lab

    target = structures((0, 0, 0), 1.0, 8.0)
    pred = structures((1.5, -1.5, 3.0), 0.95, 6.0)
    # A spurious label-2 blob and a patch of label 1 predicted as 2.
    pred[ellipsoid(grid, (-28, -22, 24), (5, 5, 8)) > 0] = 2
    pred[ellipsoid(grid, (-20, 10, -18), (6, 6, 9)) > 0] = 2

    save_nifti(out / "labels_target.nii.gz", target, affine)
    save_nifti(out / "labels_pred.nii.gz", pred, affine)
    return target, pred


def main():
    here = pathlib.Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=pathlib.Path, default=here / "samples")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    for name, (p, t) in SEEDS.items():
        np.save(args.out / f"{name}_pred.npy", np.array(p, f32))
        np.save(args.out / f"{name}_target.npy", np.array(t, f32))
        seed_copy = here.parent / "tests" / "data" / "seed" / f"{name}_pred.npy"
        if seed_copy.exists():
            assert np.array_equal(np.load(seed_copy), np.array(p, f32)), seed_copy

    target, prob = organ_pair(args.out)
    t = target > 0
    p = prob >= 0.5
    dice = 2 * np.count_nonzero(t & p) / (np.count_nonzero(t) + np.count_nonzero(p))
    print(f"organ: target voxels {np.count_nonzero(t)}, hard dice at 0.5 = {dice:.4f}")
    lt, lp = labels_pair(args.out)
    for lab in (1, 2, 3):
        a, b = lt == lab, lp == lab
        d = 2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))
        print(f"labels: label {lab}: target voxels {np.count_nonzero(a)}, dice {d:.4f}")
    for f in sorted(args.out.iterdir()):
        print(f"{f.name:28s} {f.stat().st_size:>9d} bytes")


if __name__ == "__main__":
    main()
