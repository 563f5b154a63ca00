#!/usr/bin/python3
"""Writes the read-speed inputs of bench/read_speed.sh into a folder.

An organ-like ellipsoid target (uint8) and a soft, imperfect float32
prediction with +-0.05 uniform noise (like tests/ui/bench_ui.cpp), n^3 voxels:
  nii N   pred_N.nii.gz, target_N.nii.gz: single-file NIfTI-1, gzip level 6
          (zlib's default, as nibabel writes), one gzip member
  npy N   pred_N.npy, target_N.npy
Files that exist are kept. Uses numpy only.
"""
import gzip
import os
import struct
import sys

import numpy as np


def organ_pair(n):
    c = (n - 1) / 2.0
    r = 0.35 * n
    rng = np.random.default_rng(7)
    pred = np.empty((n, n, n), np.float32)
    target = np.empty((n, n, n), np.uint8)
    h, w = np.meshgrid(np.arange(n, dtype=np.float64), np.arange(n, dtype=np.float64), indexing="ij")
    y = (h - c) / (0.8 * r)
    x = (w - c) / (0.9 * r)
    xs = (w - c - 0.04 * r) / (0.9 * r)
    for d in range(n):
        z = (d - c) / r
        target[d] = np.sqrt(x * x + y * y + z * z) <= 1.0
        rho = np.sqrt(xs * xs + y * y + z * z)
        soft = 1.0 / (1.0 + np.exp((rho - 1.0) * 12.0))
        noise = rng.uniform(-0.05, 0.05, size=(n, n)).astype(np.float32)
        pred[d] = np.clip(soft.astype(np.float32) + noise, 0.0, 1.0)
    return pred, target


def nifti_header(shape_dhw, datatype, bitpix):
    header = bytearray(352)
    d, h, w = shape_dhw
    struct.pack_into("<i", header, 0, 348)
    struct.pack_into("<8h", header, 40, 3, w, h, d, 1, 1, 1, 1)
    struct.pack_into("<hh", header, 70, datatype, bitpix)
    struct.pack_into("<8f", header, 76, 1.0, 0.8, 0.8, 1.5, 1.0, 1.0, 1.0, 1.0)
    struct.pack_into("<ff", header, 108, 352.0, 1.0)
    header[123] = 2
    struct.pack_into("<h", header, 252, 1)
    header[344:348] = b"n+1\0"
    return bytes(header)


def write_nii_gz(path, array, datatype, bitpix):
    tmp = path + ".tmp"
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0, filename="") as out:
            out.write(nifti_header(array.shape, datatype, bitpix))
            out.write(np.ascontiguousarray(array).tobytes())
    os.replace(tmp, path)


def main():
    folder, kind, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(folder, exist_ok=True)
    if kind == "nii":
        names = [os.path.join(folder, f"{p}_{n}.nii.gz") for p in ("pred", "target")]
    else:
        names = [os.path.join(folder, f"{p}_{n}.npy") for p in ("pred", "target")]
    if all(os.path.exists(name) for name in names):
        return
    pred, target = organ_pair(n)
    if kind == "nii":
        write_nii_gz(names[0], pred, 16, 32)
        write_nii_gz(names[1], target, 2, 8)
    else:
        np.save(names[0], pred)
        np.save(names[1], target)


if __name__ == "__main__":
    main()
