#!/usr/bin/env python3
"""TIFF files written by another program (tifffile + imagecodecs), each with
the same array as .npy, for tests/io/tst_image_reader.cpp (externalTiffs).

Unlike tests/generate_reader_fixtures.py (Debian's python, MaskLens's own
small TIFF writer), this needs a virtual environment:
    python3 -m venv /tmp/tiffvenv && /tmp/tiffvenv/bin/pip install tifffile imagecodecs numpy
    /tmp/tiffvenv/bin/python tests/generate_tiff_external.py
Outputs are committed (tests/data/tiff_external/); never run in CI.
"""
import os

import numpy as np
import tifffile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "tiff_external")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(2026)
    labels = rng.integers(0, 5, size=(41, 57)).astype(np.uint16)
    labels[10:30, 20:40] = 3  # runs the codecs compress
    probs = rng.random(size=(33, 29)).astype(np.float32)
    stack = rng.integers(-2, 3, size=(4, 17, 23)).astype(np.int16)
    cases = [
        ("tifffile_lzw_predictor_uint16.tif", labels, dict(compression="lzw", predictor=True, rowsperstrip=8)),
        ("tifffile_zlib_float32_be.tif", probs, dict(compression="zlib", byteorder=">", rowsperstrip=4)),
        ("tifffile_packbits_stack_int16.tif", stack, dict(compression="packbits")),
        ("tifffile_none_uint8.tif", (labels % 251).astype(np.uint8), dict()),
    ]
    for name, array, options in cases:
        path = os.path.join(OUT, name)
        tifffile.imwrite(path, array, photometric="minisblack", metadata=None, **options)
        assert np.array_equal(tifffile.imread(path), array)
        np.save(path[:-4] + ".npy", array)
    print(f"wrote {len(cases)} TIFF files with their arrays in {OUT} (tifffile {tifffile.__version__})")


if __name__ == "__main__":
    main()
